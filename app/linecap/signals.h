/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LC_APP_SIGNALS_H
#define LC_APP_SIGNALS_H

#include "linecap/capture.h"

/* Install the SIGINT/SIGTERM (stop) and SIGHUP (reload) handlers; before EAL starts, so a
 * stop asked while starting stops the capture once it runs. */
void lc_app_catch_signals(void);

/* The flags the handlers set, for lc_capture_run. */
struct lc_capture_signals lc_app_signals(void);

#endif
