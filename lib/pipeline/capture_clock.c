/* SPDX-License-Identifier: BSD-3-Clause */
/* Where a capture's timestamps come from: the TSC, or the port's clock (capture_priv.h). */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf_dyn.h>

#include "clock.h"
#include "log.h"
#include "capture_priv.h"
#include "readsrc.h"

#define CLOCK_TSC "timestamps: TSC at receive, anchored to CLOCK_REALTIME"
#define CLOCK_HW "timestamps: the port's clock (hardware), anchored to CLOCK_REALTIME"
#define CLOCK_FILE "timestamps: each packet's own, from the file it was read from (-r)"

/* After the port is configured: hardware timestamps if asked for (or auto) and the port
 * both stamps packets and lets its clock be read; the TSC otherwise. */
int
lc_capture_choose_timestamps(struct lc_capture *cap, char *err, size_t errlen)
{
	const char *mode = cap->cfg->timestamps ? cap->cfg->timestamps : "auto";
	uint64_t ticks;

	cap->hw_ts = cap->port.hw_ts && lc_port_clock(&cap->port, &ticks) == 0;
	if (strcmp(mode, "hw") == 0 && !cap->hw_ts)
		return lc_capture_fail(-EINVAL, err, errlen, "--timestamps hw: port %s %s", cap->port.name,
			    cap->port.hw_ts ? "stamps packets but its clock cannot be read" :
			    "does not stamp packets (no RX timestamp offload)");
	return 0;
}

/* The port started: measure its clock's rate and anchor it to real time. */
int
lc_capture_start_hw_clock(struct lc_capture *cap, char *err, size_t errlen)
{
	uint64_t hz, ticks;
	int rc = lc_port_clock_hz(&cap->port, &hz);

	if (rc == 0)
		rc = lc_port_clock(&cap->port, &ticks);
	if (rc != 0)
		return lc_capture_fail(rc < 0 ? rc : -EIO, err, errlen, "%s: cannot measure the port's "
			    "clock: %s", cap->port.name, strerror(rc < 0 ? -rc : EIO));
	lc_clock_init_at(&cap->hwclock, hz, ticks, lc_realtime_ns());
	for (unsigned int q = 0; q < cap->nq; q++) {
		cap->rxq[q]->hw_ts_offset = cap->port.hw_ts_offset;
		cap->rxq[q]->hw_ts_flag = cap->port.hw_ts_flag;
		cap->rxq[q]->hwclock = &cap->hwclock;
	}
	LC_LOG(NOTICE, "hardware timestamps from %s, its clock at %.6f MHz", cap->port.name,
	       hz / 1e6);
	return 0;
}

void
lc_capture_refresh_hw_clock(struct lc_capture *cap)
{
	uint64_t ticks;

	if (lc_port_clock(&cap->port, &ticks) == 0)
		lc_clock_refresh_at(&cap->hwclock, ticks, lc_realtime_ns());
}

int
lc_capture_file_timestamps(struct lc_capture *cap, char *err, size_t errlen)
{
	int rc = rte_mbuf_dyn_rx_timestamp_register(&cap->read_ts_offset, &cap->read_ts_flag);

	if (rc < 0)
		return lc_capture_fail(-rte_errno, err, errlen, "-r: cannot register the "
				       "timestamp field: %s", rte_strerror(rte_errno));
	/* No clock to convert with: the stamp is the record's time in ns (rx.c). */
	for (unsigned int q = 0; q < cap->nq; q++) {
		cap->rxq[q]->hw_ts_offset = cap->read_ts_offset;
		cap->rxq[q]->hw_ts_flag = cap->read_ts_flag;
		cap->rxq[q]->hwclock = NULL;
		cap->rxq[q]->wait_for_room = 1;
	}
	return 0;
}

const char *
lc_capture_clock_words(const struct lc_capture *cap)
{
	return cap->read ? CLOCK_FILE : cap->hw_ts ? CLOCK_HW : CLOCK_TSC;
}
