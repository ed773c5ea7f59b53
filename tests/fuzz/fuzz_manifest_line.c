/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness over the manifest's own JSON reader (lc_manifest_parse_line), against
 * jansson: for any line, both must agree on whether it is a JSON object and on every member
 * the readers use (file, retired, sha256, prev, error, bytes, packets, queue, seq), except
 * that a line holding a NUL byte is no JSON object (jansson skips NUL bytes). A
 * disagreement aborts. Built and run by scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "linecap/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "file", "retired", "sha256", "prev" };
	static const char *const nkeys[] = { "bytes", "packets", "queue", "seq" };
	struct lc_manifest_fields f;
	json_error_t jerr;
	char *scratch = malloc(size + 16);
	json_t *j = json_loadb((const char *)data, size, 0, &jerr);
	int obj = j != NULL && json_is_object(j);

	if (scratch == NULL)
		abort();
	lc_manifest_parse_line((const char *)data, size, scratch, &f);
	/* jansson's reader takes a NUL byte for the end of a buffer chunk and reads on past
	 * it, so it skips NUL bytes anywhere ("12\0}" is 12 then '}'); JSON has no NUL byte
	 * outside a string nor a raw one inside: the manifest's reader refuses every such line. */
	if (memchr(data, '\0', size) != NULL)
		obj = 0;
	if (f.object != obj)
		abort();
	if (obj) {
		const char *mine[] = { f.file, f.retired, f.sha256, f.prev };
		long long nmine[] = { f.bytes, f.packets, f.queue, f.seq };

		for (int i = 0; i < 4; i++) {
			const char *theirs = json_string_value(json_object_get(j, keys[i]));

			if ((theirs == NULL) != (mine[i] == NULL) ||
			    (theirs != NULL && strcmp(theirs, mine[i]) != 0))
				abort();
			if (json_integer_value(json_object_get(j, nkeys[i])) != nmine[i])
				abort();
		}
		if ((json_object_get(j, "error") != NULL) != f.error)
			abort();
	}
	json_decref(j);
	free(scratch);
	return 0;
}
