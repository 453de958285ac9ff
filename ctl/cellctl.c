// SPDX-License-Identifier: MIT
/*
 * cellctl: see and manage cells, check the setup, confine users. Root only:
 * it reads /run/cell, the config and every account, and joins cells.
 *
 *   cellctl [--conf PATH] COMMAND [ARGS]     (cellctl(8))
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"

static const char usage[] =
	"usage: cellctl [--conf PATH] COMMAND [ARGS]\n"
	"  check [--user USER] [--service SVC] [--sshd-config PATH]\n"
	"                        the config, what USER would get, and the system\n"
	"  list [--json]         live cells\n"
	"  enter CELL|USER [--root] [-- COMMAND [ARG...]]\n"
	"                        run a shell or COMMAND in a cell\n"
	"  stop CELL|USER        end cells (their sessions close)\n"
	"  enable USER [--profile NAME] [--subids auto|FIRST-LAST]\n"
	"                        confine USER: subordinate ids, shell, [user] section\n"
	"  disable USER          give USER their shell back, unconfined\n"
	"  log [USER|CELL] [--file PATH] [--json]\n"
	"                        pam_cell's and cell-init's log lines\n"
	"  image import NAME TARBALL|DIR [--replace] [--allow-setuid] [--allow-devices]\n"
	"  image list [--json]   root filesystem images (rootfs = image:NAME)\n"
	"  user reset USER [IMAGE]\n"
	"                        drop USER's upper layer(s): the next login starts afresh\n"
	"  user du [USER] [--json]\n"
	"                        the size of each user's upper layers\n"
	"  --version\n";

static void vwarn(const char *fmt, va_list ap)
{
	fputs("cellctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ctl_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void ctl_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* Run a program (NULL-terminated arguments) with a clean environment; its
 * exit status, or -1. */
int ctl_run(const char *prog, ...)
{
	char *argv[8] = { NULL }, *env[] = { strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), NULL };
	int n = 0, status = -1;
	const char *a = prog;
	va_list ap;
	pid_t pid;

	va_start(ap, prog);
	for (; a && n < 7; a = va_arg(ap, const char *))
		argv[n++] = strdup(a);
	va_end(ap);
	pid = fork();
	if (pid == 0) {
		execve(argv[0], argv, env);
		_exit(127);
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	for (int i = 0; i < n; i++)
		free(argv[i]);
	free(env[0]);
	return status;
}

static const struct {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
} cmds[] = {
	{ "check", cmd_check }, { "list", cmd_list },	  { "enter", cmd_enter },
	{ "stop", cmd_stop },	{ "enable", cmd_enable }, { "disable", cmd_disable },
	{ "log", cmd_log },	{ "image", cmd_image },	  { "user", cmd_user },
};

int main(int argc, char **argv)
{
	struct ctl c = { .conf = CELL_CONF_PATH };
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("cellctl %s\n", CELL_VERSION);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc &&
			   argv[i + 1][0] == '/') {
			c.conf = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			c.json = true;
		} else {
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		if (strcmp(argv[i], cmds[k].name) != 0)
			continue;
		if (geteuid() != 0)
			ctl_die(EXIT_PROBLEM,
				"%s needs root (it reads /run/cell, the config and every "
				"account): run it with sudo",
				argv[i]);
		return cmds[k].run(&c, argc - i, argv + i);
	}
	fprintf(stderr, "cellctl: unknown command '%s'\n%s", argv[i], usage);
	return EXIT_USAGE;
}
