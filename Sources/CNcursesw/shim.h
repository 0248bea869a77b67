#ifndef MESSENGER_DASH_CNCURSESW_SHIM_H
#define MESSENGER_DASH_CNCURSESW_SHIM_H

// Wide-character curses: must be defined before the header is included.
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <ncursesw/curses.h>

// Swift can't import curses' macros and its mutable globals are not concurrency-safe,
// so every one the toolkit needs is wrapped here.
static inline WINDOW *shim_stdscr(void) { return stdscr; }
static inline int shim_lines(void) { return LINES; }
static inline int shim_cols(void) { return COLS; }
static inline int shim_colors(void) { return COLORS; }
static inline int shim_color_pairs(void) { return COLOR_PAIRS; }
static inline int shim_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline void shim_getmaxyx(WINDOW *w, int *y, int *x) { int yy, xx; getmaxyx(w, yy, xx); *y = yy; *x = xx; }
static inline int shim_a_normal(void) { return (int)A_NORMAL; }
static inline int shim_a_bold(void) { return (int)A_BOLD; }
static inline int shim_a_reverse(void) { return (int)A_REVERSE; }
static inline int shim_a_underline(void) { return (int)A_UNDERLINE; }
static inline int shim_a_dim(void) { return (int)A_DIM; }
static inline int shim_key_resize(void) { return KEY_RESIZE; }
static inline int shim_err(void) { return ERR; }
static inline void shim_setlocale_all(void) { setlocale(LC_ALL, ""); }
// Sets attributes and an extended colour pair (pairs above 32767 need the opts pointer).
static inline int shim_set_style(WINDOW *w, int attrs, int pair) { return wattr_set(w, (attr_t)attrs, 0, &pair); }
static inline int shim_key_code_yes(void) { return KEY_CODE_YES; }
// Every mouse event is reported, each at once (no click synthesis, which would hold every press
// back by the click interval; double presses are told apart in Swift). The Swift side keeps the
// left button's presses and the wheel. A narrower mask looked right but hangs: ncurses drops an
// event outside the mask (a release, say) inside wgetch and then waits past the read's timeout,
// so the screen stopped updating until the next key.
static inline void shim_enable_mouse(void) {
    mousemask(ALL_MOUSE_EVENTS, NULL);
    mouseinterval(0);
}
static inline int shim_key_mouse(void) { return KEY_MOUSE; }
// The pending mouse event: 1 press, 4 wheel up, 5 wheel down, 0 anything else; -1 when none.
static inline int shim_getmouse(int *x, int *y) {
    MEVENT event;
    if (getmouse(&event) != OK) return -1;
    *x = event.x;
    *y = event.y;
    if (event.bstate & BUTTON1_PRESSED) return 1;
    if (event.bstate & BUTTON4_PRESSED) return 4;
#ifdef BUTTON5_PRESSED
    if (event.bstate & BUTTON5_PRESSED) return 5;
#endif
    return 0;
}

// A curses screen writing to a file instead of the tty: the benchmark flushes real frames to /dev/null.
static inline SCREEN *shim_newterm_to(const char *type, const char *path) {
    FILE *out = fopen(path, "w");
    FILE *in = fopen("/dev/null", "r");
    if (!out || !in) return NULL;
    return newterm(type, out, in);
}

#endif
