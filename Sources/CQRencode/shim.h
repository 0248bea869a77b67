// libqrencode (Debian: libqrencode-dev), for the device login's QR code on a terminal (#24).
#include <qrencode.h>
