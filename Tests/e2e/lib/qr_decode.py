#!/usr/bin/env python3
"""Decodes a QR code drawn in half blocks (as the login shows it) with zbarimg: the code a phone
would scan. Reads the screen's text on stdin; prints what the code says (nothing if none is found).

Each character is two modules: '█' both dark, '▀' the top one, '▄' the bottom one. The rows that
hold any of them, in the columns they span, are the code; it is drawn at 8 pixels a module with a
white border into a PGM file for zbarimg."""
import subprocess, sys, tempfile

HALF = {"█": (1, 1), "▀": (1, 0), "▄": (0, 1)}
rows = [line.rstrip("\n") for line in sys.stdin]
# The code is the first block of consecutive rows with half blocks.
start = next((i for i, r in enumerate(rows) if any(c in HALF for c in r)), None)
if start is None:
    sys.exit(0)
end = start
while end < len(rows) and any(c in HALF for c in rows[end]):
    end += 1
block = rows[start:end]
left = min(min(i for i, c in enumerate(r) if c in HALF) for r in block)
right = max(max(i for i, c in enumerate(r) if c in HALF) for r in block) + 1
modules = []
for r in block:
    r = r.ljust(right)
    top = [HALF.get(c, (0, 0))[0] for c in r[left:right]]
    bottom = [HALF.get(c, (0, 0))[1] for c in r[left:right]]
    modules += [top, bottom]
scale, border = 8, 4
width = (right - left + 2 * border) * scale
height = (len(modules) + 2 * border) * scale
pixels = bytearray([255]) * (width * height)
for y, line in enumerate(modules):
    for x, dark in enumerate(line):
        if dark:
            for dy in range(scale):
                base = ((y + border) * scale + dy) * width + (x + border) * scale
                pixels[base:base + scale] = bytes(scale)
with tempfile.NamedTemporaryFile(suffix=".pgm") as f:
    f.write(b"P5 %d %d 255\n" % (width, height) + bytes(pixels))
    f.flush()
    out = subprocess.run(["zbarimg", "--quiet", "--raw", f.name], capture_output=True, text=True)
print(out.stdout.strip())
