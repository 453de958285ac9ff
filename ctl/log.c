// SPDX-License-Identifier: MIT
/*
 * cellctl log [USER|CELL] [--file PATH]: pam_cell's and cell-init's lines
 * (decisions, cells made and ended, refusals with their fix), from the
 * journal when systemd's is there, else /var/log/auth.log, or PATH.
 * For a user: the lines naming user=USER, and every line of their cells.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static bool ours(const char *line)
{
	return strstr(line, "pam_cell(") || strstr(line, "cell-init[") ||
	       strstr(line, "cell-init:");
}

/* "user=alice" as a whole word. */
static bool names_user(const char *line, const char *user)
{
	size_t n = strlen(user);

	for (const char *p = line; (p = strstr(p, "user=")); p += 5)
		if (strncmp(p + 5, user, n) == 0 &&
		    (p[5 + n] == '\0' || strchr(" ,;:)\n", p[5 + n])))
			return true;
	return false;
}

int cmd_log(struct ctl *c, int argc, char **argv)
{
	const char *what = NULL, *file = NULL;
	char line[4096], ids[64][CELL_ID_LEN + 1];
	size_t nids = 0, n = 0;
	FILE *in;
	bool journal;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--file") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			c->json = true;
		else if (argv[i][0] != '-' && !what)
			what = argv[i];
		else
			ctl_die(EXIT_USAGE,
				"usage: cellctl log [USER|CELL] [--file PATH] [--json]");
	}
	journal = !file && access("/run/systemd/journal/socket", F_OK) == 0 &&
		  access("/usr/bin/journalctl", X_OK) == 0;
	if (journal)
		in = popen("/usr/bin/journalctl --no-pager -q -o short-iso SYSLOG_FACILITY=10 "
			   "SYSLOG_FACILITY=4",
			   "re");
	else
		in = fopen(file ? file : "/var/log/auth.log", "re");
	if (!in)
		ctl_die(EXIT_PROBLEM,
			"no log to read: %s (is a syslog daemon running? cellctl check says where "
			"the lines go)",
			file ? file : "/var/log/auth.log");
	while (fgets(line, sizeof(line), in)) {
		const char *cell;

		if (!ours(line))
			continue;
		if (what && cell_id_valid(what)) {
			if (!strstr(line, what))
				continue;
		} else if (what) {
			bool hit = names_user(line, what);

			/* "cell ID created user=alice ..." names the cell's id: its
			 * later lines (ended, monitor) follow it. */
			cell = strstr(line, "cell ");
			if (hit && cell) {
				char id[CELL_ID_LEN + 1];

				snprintf(id, sizeof(id), "%.32s", cell + 5);
				if (cell_id_valid(id) && nids < 64)
					strcpy(ids[nids++], id);
			}
			for (size_t i = 0; !hit && i < nids; i++)
				hit = strstr(line, ids[i]) != NULL;
			if (!hit)
				continue;
		}
		if (!c->json) {
			fputs(line, stdout);
			continue;
		}
		/* One object per line: the line, and the cell it names if any. */
		line[strcspn(line, "\n")] = '\0';
		cell = strstr(line, "cell ");
		printf("%s\n {\"line\": ", n++ ? "," : "[");
		json_str(stdout, line);
		fputs(", \"cell\": ", stdout);
		{
			char id[CELL_ID_LEN + 1] = "";

			if (cell)
				snprintf(id, sizeof(id), "%.32s", cell + 5);
			json_str(stdout, cell_id_valid(id) ? id : "");
		}
		fputs("}", stdout);
	}
	if (c->json)
		puts(n ? "\n]" : "[]");
	if (journal)
		pclose(in);
	else
		fclose(in);
	return EXIT_OK;
}
