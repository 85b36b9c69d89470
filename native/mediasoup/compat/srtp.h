// The worker does `#include <srtp.h>` (libsrtp3's header name). This directory
// is put first on the worker's include path, so that include lands here and
// gets libsrtp2 plus the libsrtp3 compatibility layer.
#include "srtp3-compat.h"
