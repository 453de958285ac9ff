// SPDX-License-Identifier: MIT
#include "idmap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIX_HINT "fix with 'usermod --add-sub%ss FIRST-LAST %s' (and --del-sub%ss for a bad range)"

int subid_validate(const struct id_range *r, size_t n, unsigned long own, unsigned long min,
		   const char *kind, const char *user, struct cell_err *e)
{
	if (n == 0)
		return cell_err_set(e, 0,
				    "user %s has no subordinate %s range in /etc/sub%s: " FIX_HINT,
				    user, kind, kind, kind, user, kind);
	for (size_t i = 0; i < n; i++) {
		unsigned long s = r[i].start, c = r[i].count;

		if (c == 0)
			return cell_err_set(e, 0,
					    "subordinate %s range %lu:0 of %s is empty: " FIX_HINT,
					    kind, s, user, kind, user, kind);
		if (s > ID_MAX || c > ID_MAX - s + 1)
			return cell_err_set(e, 0,
					    "subordinate %s range %lu:%lu of %s runs past the "
					    "largest id %lu: " FIX_HINT,
					    kind, s, c, user, ID_MAX, kind, user, kind);
		if (s < min)
			return cell_err_set(
				e, 0,
				"subordinate %s range %lu:%lu of %s starts below "
				"subid_min %lu, where system and user accounts live: " FIX_HINT,
				kind, s, c, user, min, kind, user, kind);
		if (own >= s && own - s < c)
			return cell_err_set(e, 0,
					    "subordinate %s range %lu:%lu of %s contains the "
					    "user's own %s %lu: " FIX_HINT,
					    kind, s, c, user, kind, own, kind, user, kind);
		for (size_t j = 0; j < i; j++) {
			unsigned long s2 = r[j].start, c2 = r[j].count;

			if (s < s2 + c2 && s2 < s + c)
				return cell_err_set(
					e, 0,
					"subordinate %s ranges %lu:%lu and %lu:%lu of %s "
					"overlap: " FIX_HINT,
					kind, s2, c2, s, c, user, kind, user, kind);
		}
	}
	return 0;
}

static int add_line(struct idmap *m, unsigned long in, unsigned long out, unsigned long count,
		    struct cell_err *e)
{
	if (m->n >= IDMAP_MAX_LINES)
		return cell_err_set(e, E2BIG,
				    "the id map needs more than %d lines, the kernel's "
				    "limit: use fewer, larger subordinate ranges",
				    IDMAP_MAX_LINES);
	m->line[m->n++] = (struct idmap_line){ in, out, count };
	return 0;
}

unsigned long idmap_inside_self(enum cell_identity id, unsigned long own)
{
	return id == IDENTITY_ROOT ? 0 : own;
}

int idmap_build(enum cell_identity id, unsigned long own, const struct id_range *r, size_t n,
		unsigned long want, const char *kind, const char *user, struct idmap *m,
		struct cell_err *e)
{
	unsigned long inside, total = 0, remaining = want;

	m->n = 0;
	if (own > ID_MAX)
		return cell_err_set(e, EINVAL, "%s %lu is not a valid id", kind, own);
	if (add_line(m, idmap_inside_self(id, own), own, 1, e) < 0)
		return -1;
	if (id == IDENTITY_SELF)
		return 0;

	for (size_t i = 0; i < n; i++)
		total += r[i].count; /* validated: each <= ID_MAX, n small */
	if (want == 0 || total < want)
		return cell_err_set(e, 0,
				    "user %s has %lu subordinate %ss, the profile maps "
				    "subid_count = %lu: fix with 'usermod --add-sub%ss "
				    "FIRST-LAST %s' or lower subid_count",
				    user, total, kind, want, kind, user);
	/* Inside ids the ranges fill: keep-id 0.. (skipping own), root 1.. */
	inside = id == IDENTITY_ROOT ? 1 : 0;
	if (inside > ID_MAX - want)
		return cell_err_set(e, ERANGE, "subid_count %lu is too large", want);
	for (size_t i = 0; i < n && remaining > 0; i++) {
		unsigned long off = 0;

		while (off < r[i].count && remaining > 0) {
			unsigned long take = r[i].count - off;

			if (id == IDENTITY_KEEP_ID && inside == own)
				inside++; /* own id maps to itself */
			if (take > remaining)
				take = remaining;
			if (id == IDENTITY_KEEP_ID && inside < own && take > own - inside)
				take = own - inside;
			if (inside > ID_MAX || take - 1 > ID_MAX - inside)
				return cell_err_set(
					e, ERANGE,
					"inside %s range overflows at %lu: lower subid_count", kind,
					inside);
			if (add_line(m, inside, r[i].start + off, take, e) < 0)
				return -1;
			inside += take;
			off += take;
			remaining -= take;
		}
	}
	return 0;
}

int idmap_format(const struct idmap *m, char *buf, size_t size, struct cell_err *e)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = 0;

	for (size_t i = 0; i < m->n; i++) {
		int w = snprintf(buf + len, size - len, "%lu %lu %lu\n", m->line[i].inside,
				 m->line[i].outside, m->line[i].count);

		if (w < 0 || (size_t)w >= size - len)
			return cell_err_set(e, E2BIG, "id map does not fit in %zu bytes", size);
		len += (size_t)w;
	}
	/* The kernel takes the whole map in one write of less than a page. */
	if (page > 0 && len >= (size_t)page)
		return cell_err_set(e, E2BIG,
				    "the id map is %zu bytes, the kernel takes less than "
				    "%ld: use fewer subordinate ranges",
				    len, page);
	return (int)len;
}

/* Does [s, s+c) overlap one of r? Returns its index, or -1. */
static long overlapping(const struct id_range *r, size_t n, unsigned long s, unsigned long c)
{
	for (size_t i = 0; i < n; i++)
		if (s < r[i].start + r[i].count && r[i].start < s + c)
			return (long)i;
	return -1;
}

/* The next line of a subid file from *p (advanced), counted in *line:
 * 1 with its owner, start and count; 0 at the end; -1 if it does not
 * parse (anything but a blank line must, or whose ids they are is
 * unknown), naming file:line. */
static int subid_next(const char **p, int *line, char owner[256], unsigned long *s,
		      unsigned long *c, const char *file, const char *kind, struct cell_err *e)
{
	while (**p) {
		const char *nl = strchrnul(*p, '\n'), *at = *p;
		size_t len = (size_t)(nl - at);
		char buf[512];
		int used = 0;

		*p = *nl ? nl + 1 : nl;
		(*line)++;
		while (len && (at[len - 1] == '\r' || at[len - 1] == ' ' || at[len - 1] == '\t'))
			len--;
		if (len == 0)
			continue;
		if (len >= sizeof(buf) ||
		    (memcpy(buf, at, len), buf[len] = '\0',
		     sscanf(buf, "%255[^:]:%lu:%lu%n", owner, s, c, &used) != 3) ||
		    (size_t)used != len)
			return cell_err_set(e, EINVAL,
					    "%s:%d: not 'owner:start:count', so the "
					    "owners of the ids in it are unknown: fix the line "
					    "(usermod --del-sub%ss/--add-sub%ss)",
					    file, *line, kind, kind);
		return 1;
	}
	return 0;
}

int subid_check_file(const char *text, const char *file, const char *user, unsigned long own_id,
		     const struct id_range *r, size_t n, const char *kind, struct cell_err *e)
{
	char own_num[24], owner[256];
	unsigned long s, c;
	int line = 0, k;

	snprintf(own_num, sizeof(own_num), "%lu", own_id);
	while ((k = subid_next(&text, &line, owner, &s, &c, file, kind, e)) > 0) {
		long hit;

		if (strcmp(owner, user) == 0 || strcmp(owner, own_num) == 0 || c == 0)
			continue;
		hit = overlapping(r, n, s, c);
		if (hit >= 0)
			return cell_err_set(
				e, EEXIST,
				"subordinate %s range %lu:%lu of %s overlaps %lu:%lu of "
				"%s (%s:%d): two users sharing ids could enter each "
				"other's files and processes; give %s a range of its own "
				"(usermod --del-sub%ss/--add-sub%ss)",
				kind, r[hit].start, r[hit].count, user, s, c, owner, file, line,
				user, kind, kind);
	}
	return k;
}

int subid_parse_file(const char *text, const char *file, const char *user, unsigned long own_id,
		     const char *kind, struct id_range **out, size_t *n, struct cell_err *e)
{
	char own_num[24], owner[256];
	unsigned long s, c;
	int line = 0, k;

	*out = NULL;
	*n = 0;
	snprintf(own_num, sizeof(own_num), "%lu", own_id);
	while ((k = subid_next(&text, &line, owner, &s, &c, file, kind, e)) > 0) {
		struct id_range *more;

		if ((strcmp(owner, user) != 0 && strcmp(owner, own_num) != 0) || c == 0)
			continue;
		more = realloc(*out, (*n + 1) * sizeof(**out));
		if (!more) {
			k = cell_err_set(e, ENOMEM, "out of memory");
			break;
		}
		*out = more;
		(*out)[(*n)++] = (struct id_range){ s, c };
	}
	if (k < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return k;
}

int subid_check_id(unsigned long id, const char *what, const char *user, const struct id_range *r,
		   size_t n, const char *kind, struct cell_err *e)
{
	long hit = overlapping(r, n, id, 1);

	if (hit < 0)
		return 0;
	return cell_err_set(e, EEXIST,
			    "subordinate %s range %lu:%lu of %s contains %s %lu of %s: inside "
			    "the cell, files and processes of that id would be the host's; "
			    "give %s a range clear of every account (usermod "
			    "--del-sub%ss/--add-sub%ss)",
			    kind, r[hit].start, r[hit].count, user, kind, id, what, user, kind,
			    kind);
}

int idmap_text_host_of(const char *map, unsigned long inside, unsigned long *out)
{
	for (const char *p = map; p && *p;) {
		unsigned long in, host, count;

		if (sscanf(p, "%lu %lu %lu", &in, &host, &count) == 3 && inside >= in &&
		    inside - in < count) {
			*out = host + (inside - in);
			return 0;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return -1;
}
