// SPDX-License-Identifier: MIT
/*
 * cellctl enable / disable: confine a user, or stop confining them, in one
 * step that can be repeated. Three things make a confined user: a [user]
 * section (a drop-in, CONFDIR/cell.d/user-NAME.conf), subordinate ids, and
 * cellsh as the login shell. Every order of them leaves a window; the
 * orders below make each window refuse logins (pam_cell refuses a confined
 * user whose shell is not cellsh; cellsh refuses a session without a
 * cell), never give a host shell, and any failure undoes what was done.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "decide.h"
#include "session.h"
#include "util.h"

#define SUBID_LAST 600100000UL /* login.defs' SUB_UID_MAX default */
/* The group the sshd snippet (conf/sshd_cell.conf) matches: forwarding,
 * tunnels and ~/.ssh/rc off for its members. */
#define CELL_GROUP "cell"

struct dropin {
	char dir[300], path[400], tmp[420];
};

/* Is there a [profile NAME] in the config (a broken config: no)? */
static bool profile_defined(const char *conf, const char *name)
{
	struct cell_conf *c = calloc(1, sizeof(*c));
	bool found = false;

	if (!c)
		return false;
	conf_init(c);
	conf_load(c, conf);
	for (size_t i = 0; i < c->nsections; i++)
		if (c->sections[i].kind == SECTION_PROFILE &&
		    strcmp(c->sections[i].pattern, name) == 0)
			found = true;
	conf_free(c);
	free(c);
	return found;
}

static void dropin_paths(const char *conf, const char *user, struct dropin *d)
{
	char copy[300];

	snprintf(copy, sizeof(copy), "%s", conf);
	snprintf(d->dir, sizeof(d->dir), "%s/cell.d", dirname(copy));
	snprintf(d->path, sizeof(d->path), "%s/user-%s.conf", d->dir, user);
	snprintf(d->tmp, sizeof(d->tmp), "%s/.user-%s.tmp", d->dir, user);
}

static int set_shell(const char *user, const char *shell)
{
	return ctl_run("/usr/sbin/usermod", "-s", shell, user, NULL) == 0 ? 0 : -1;
}

/* Write the whole file under a temporary name, then rename it into place. */
static int write_atomic(const struct dropin *d, const char *text)
{
	int fd, dfd;

	if (mkdir(d->dir, 0755) < 0 && errno != EEXIST)
		return -1;
	fd = open(d->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0644) < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		close(fd);
		unlink(d->tmp);
		return -1;
	}
	close(fd);
	if (rename(d->tmp, d->path) < 0) {
		unlink(d->tmp);
		return -1;
	}
	dfd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* cellctl's drop-in with its "profile =" line replaced by NAME's. */
static int set_dropin_profile(const struct dropin *d, const char *name)
{
	char text[2048], line[512];
	size_t off = 0;
	FILE *in = fopen(d->path, "re");

	if (!in)
		return -1;
	while (fgets(line, sizeof(line), in) && off < sizeof(text))
		if (strncmp(line, "profile", 7) != 0)
			off += (size_t)snprintf(text + off, sizeof(text) - off, "%s", line);
	fclose(in);
	if (off + strlen(name) + 12 >= sizeof(text)) {
		errno = EFBIG;
		return -1;
	}
	snprintf(text + off, sizeof(text) - off, "profile = %s\n", name);
	return write_atomic(d, text);
}

/* Add "# cellctl: NOTE" (what to undo) at the top of cellctl's drop-in. */
static int dropin_note(const struct dropin *d, const char *note)
{
	char text[4096];
	size_t n = (size_t)snprintf(text, sizeof(text), "# cellctl: %s\n", note);
	FILE *in = fopen(d->path, "re");

	if (!in)
		return -1;
	n += fread(text + n, 1, sizeof(text) - n - 1, in);
	fclose(in);
	text[n] = '\0';
	return write_atomic(d, text);
}

/* A mark in the drop-in directory: cellctl created the group, so purging
 * the package may remove it (and leaves an admin's own group alone). */
static void mark_group_created(const struct dropin *d)
{
	char path[400];
	int fd;

	snprintf(path, sizeof(path), "%s/.cellctl-created-group", d->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

static bool in_group(const struct passwd *pw, gid_t gid)
{
	gid_t groups[1024];
	int n = 1024;

	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static void decide(const char *conf, const char *user, struct login_decision *d)
{
	struct cell_conf *c = calloc(1, sizeof(*c));

	if (!c)
		ctl_die(EXIT_PROBLEM, "out of memory");
	login_decide(c, conf, user, NULL, d);
	conf_free(c);
	free(c);
}

/* ---- subordinate ids: a free block, as useradd picks one ---- */

struct span {
	unsigned long first, last;
};

static size_t read_spans(const char *file, struct span *v, size_t n, size_t cap)
{
	char line[512];
	FILE *f = fopen(file, "re");

	while (f && n < cap && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		unsigned long start, count;

		if (!c2)
			continue;
		start = strtoul(c1 + 1, NULL, 10);
		count = strtoul(c2 + 1, NULL, 10);
		if (count)
			v[n++] = (struct span){ start, start + count - 1 };
	}
	if (f)
		fclose(f);
	return n;
}

static bool overlaps(const struct span *v, size_t n, unsigned long first, unsigned long last)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].first <= last && first <= v[i].last)
			return true;
	return false;
}

static int free_block(unsigned long min, unsigned long count, unsigned long *first)
{
	size_t cap = 1 << 16, n = 0;
	struct span *v = calloc(cap, sizeof(*v));
	struct passwd *pw;
	struct group *gr;

	if (!v)
		return -1;
	n = read_spans("/etc/subuid", v, n, cap);
	n = read_spans("/etc/subgid", v, n, cap);
	setpwent();
	while (n < cap && (pw = getpwent()))
		v[n++] = (struct span){ pw->pw_uid, pw->pw_uid };
	endpwent();
	setgrent();
	while (n < cap && (gr = getgrent()))
		v[n++] = (struct span){ gr->gr_gid, gr->gr_gid };
	endgrent();
	for (unsigned long s = min < 100000 ? 100000 : min; s + count - 1 <= SUBID_LAST;
	     s += count) {
		if (!overlaps(v, n, s, s + count - 1)) {
			*first = s;
			free(v);
			return 0;
		}
	}
	free(v);
	return -1;
}

static int add_subids(const char *user, unsigned long first, unsigned long last)
{
	char range[64];

	snprintf(range, sizeof(range), "%lu-%lu", first, last);
	return ctl_run("/usr/sbin/usermod", "--add-subuids", range, "--add-subgids", range, user,
		       NULL) == 0
		       ? 0
		       : -1;
}

static void del_subids(const char *user, unsigned long first, unsigned long last)
{
	char range[64];

	snprintf(range, sizeof(range), "%lu-%lu", first, last);
	ctl_run("/usr/sbin/usermod", "--del-subuids", range, "--del-subgids", range, user, NULL);
}

/* Is any file under the home owned by an id in first..last? (nftw has no
 * user pointer: one scan at a time, in this single-threaded tool.) */
static unsigned long scan_first, scan_last;
static char scan_hit[PATH_MAX];

static int scan_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	if ((st->st_uid >= scan_first && st->st_uid <= scan_last) ||
	    (st->st_gid >= scan_first && st->st_gid <= scan_last)) {
		snprintf(scan_hit, sizeof(scan_hit), "%s", path);
		return 1;
	}
	return 0;
}

/* The subordinate ids enable gave: removed when nothing in the home is
 * owned by them; else kept (given to someone else later, they would own
 * those files), saying which file and how to remove them. */
static void release_subids(const struct passwd *pw, const char *range)
{
	unsigned long first, last;
	int r;

	if (sscanf(range, "%lu-%lu", &first, &last) != 2 || last < first)
		return;
	scan_first = first, scan_last = last, scan_hit[0] = '\0';
	r = nftw(pw->pw_dir, scan_one, 32, FTW_PHYS | FTW_MOUNT);
	if (r == 0) {
		del_subids(pw->pw_name, first, last);
		printf("removed the subordinate ids %s that enable gave %s\n", range, pw->pw_name);
		return;
	}
	printf("kept the subordinate ids %s of %s: %s; usermod --del-subuids %s "
	       "--del-subgids %s %s removes them\n",
	       range, pw->pw_name,
	       r == 1 ? "files in the home are owned by them, e.g." : "the home could not be read:",
	       range, range, pw->pw_name);
	if (r == 1)
		printf("  %s\n", scan_hit);
}

static void add_shell(const char *cellsh)
{
	char line[300];
	bool listed = false;
	FILE *f = fopen("/etc/shells", "re");

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		listed |= strcmp(line, cellsh) == 0;
	}
	if (f)
		fclose(f);
	if (listed)
		return;
	f = fopen("/etc/shells", "ae");
	if (!f || fprintf(f, "%s\n", cellsh) < 0 || fclose(f) != 0)
		ctl_warn("could not add %s to /etc/shells: add it by hand", cellsh);
	else
		printf("added %s to /etc/shells\n", cellsh);
}

/* Processes of uid in this (the host's) pid namespace, cellsh aside. */
static int host_processes(uid_t uid)
{
	struct stat self, st;
	struct dirent *d;
	DIR *dir = opendir("/proc");
	int n = 0;

	if (!dir || stat("/proc/self/ns/pid", &self) < 0) {
		if (dir)
			closedir(dir);
		return 0;
	}
	while ((d = readdir(dir))) {
		char path[300], comm[32] = "";
		int fd;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s", d->d_name);
		if (stat(path, &st) < 0 || st.st_uid != uid)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/pid", d->d_name);
		if (stat(path, &st) < 0 || st.st_ino != self.st_ino)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t r = read(fd, comm, sizeof(comm) - 1);

			comm[r > 0 ? r : 0] = '\0';
			close(fd);
		}
		if (strncmp(comm, "cellsh", 6) != 0)
			n++;
	}
	closedir(dir);
	return n;
}

static const char enable_usage[] =
	"usage: cellctl enable USER [--profile NAME] [--subids auto|FIRST-LAST]";

int cmd_enable(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *profile = NULL, *subids = "auto";
	struct login_decision *d = calloc(1, sizeof(*d));
	unsigned long first = 0, last = 0;
	bool allocated = false, wrote = false, joined = false;
	struct cell_err e = { 0 };
	struct dropin f;
	char text[1024], old_shell[256], cellsh[256];
	struct passwd *pw;
	int host;

	if (!d)
		ctl_die(EXIT_PROBLEM, "out of memory");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc)
			profile = argv[++i];
		else if (strcmp(argv[i], "--subids") == 0 && i + 1 < argc)
			subids = argv[++i];
		else if (argv[i][0] != '-' && !user)
			user = argv[i];
		else
			ctl_die(EXIT_USAGE, "%s", enable_usage);
	}
	if (!user)
		ctl_die(EXIT_USAGE, "%s", enable_usage);
	if (strcmp(subids, "auto") != 0 &&
	    (sscanf(subids, "%lu-%lu", &first, &last) != 2 || last < first))
		ctl_die(EXIT_USAGE, "--subids: 'auto' or FIRST-LAST (e.g. 231072-296607)");
	if (profile &&
	    strspn(profile, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
		    strlen(profile))
		ctl_die(EXIT_USAGE, "--profile: a name of letters, digits, '-', '_' and '.'");
	/* A drop-in naming a profile that is not there would be a config error,
	 * which refuses every confined login: check before writing anything. */
	if (profile && !profile_defined(ctl->conf, profile))
		ctl_die(EXIT_PROBLEM,
			"no [profile %s] in %s or its includes: add that section first (cell.conf(5))",
			profile, ctl->conf);
	pw = getpwnam(user);
	if (!pw)
		ctl_die(EXIT_PROBLEM, "no user %s (useradd -m %s first)", user, user);
	if (strlen(user) > 60 || strchr(user, '/') || strpbrk(user, "*?[]"))
		ctl_die(EXIT_PROBLEM, "user name '%s' cannot name a [user] section", user);
	snprintf(old_shell, sizeof(old_shell), "%s", pw->pw_shell);

	decide(ctl->conf, user, d);
	if (d->verdict == LOGIN_REFUSE)
		ctl_die(EXIT_PROBLEM, "%s (cellctl check)", d->why);
	if (d->verdict == LOGIN_EXEMPT)
		ctl_die(EXIT_PROBLEM, "%s is listed in 'exempt' of %s: remove them there first",
			user, ctl->conf);
	dropin_paths(ctl->conf, user, &f);
	if (d->verdict == LOGIN_CONFINE && profile && strcmp(d->match.profile_name, profile) != 0) {
		/* Confined already, another profile asked for: only cellctl's own
		 * drop-in is rewritten; the admin's sections are theirs to edit. */
		if (!strstr(d->match.why, f.path))
			ctl_die(EXIT_PROBLEM,
				"%s is confined by %s, not by cellctl enable: set 'profile = %s' "
				"in that section",
				user, d->match.why, profile);
		if (set_dropin_profile(&f, profile) < 0)
			ctl_die(EXIT_PROBLEM, "rewriting %s: %s", f.path, strerror(errno));
		if (d->have_acct)
			account_free(&d->acct);
		decide(ctl->conf, user, d);
		printf("%s now uses [profile %s] (new logins; live cells keep theirs)\n", user,
		       profile);
	}
	if (d->verdict != LOGIN_CONFINE) {
		/* 1. The section: from now on a login is refused (shell not cellsh). */
		snprintf(text, sizeof(text),
			 "# Written by cellctl enable; cellctl disable %s removes it.\n"
			 "# cellctl: shell=%s\n[user %s]\n%s%s%s",
			 user, old_shell, user, profile ? "profile = " : "", profile ? profile : "",
			 profile ? "\n" : "");
		if (write_atomic(&f, text) < 0)
			ctl_die(EXIT_PROBLEM, "writing %s: %s", f.path, strerror(errno));
		if (d->have_acct)
			account_free(&d->acct);
		decide(ctl->conf, user, d);
		if (d->verdict != LOGIN_CONFINE || !strstr(d->match.why, f.path)) {
			unlink(f.path);
			ctl_die(EXIT_PROBLEM,
				"%s did not confine %s (%s): is 'include = %s/*.conf' among the "
				"global keys of %s?",
				f.path, user, d->why[0] ? d->why : d->match.why, f.dir, ctl->conf);
		}
		wrote = true;
		printf("wrote %s\n", f.path);
	}
	/* 2. Subordinate ids, when the profile maps any and the user lacks them. */
	{
		struct cell_conf *c = calloc(1, sizeof(*c));

		if (!c)
			ctl_die(EXIT_PROBLEM, "out of memory");
		conf_init(c);
		conf_load(c, ctl->conf);
		if (session_check_ids(c, &d->match.profile, &d->acct, &e) < 0) {
			unsigned long count = d->match.profile.subid_count;

			if (!first && free_block(c->subid_min, count, &first) < 0) {
				e.code = ENOSPC;
				snprintf(e.msg, sizeof(e.msg),
					 "no free block of %lu subordinate ids", count);
			} else {
				if (!last)
					last = first + count - 1;
				if (add_subids(user, first, last) == 0) {
					allocated = true;
					printf("gave %s subordinate ids %lu-%lu\n", user, first,
					       last);
					e.msg[0] = '\0';
					if (session_check_ids(c, &d->match.profile, &d->acct, &e) ==
					    0)
						e.msg[0] = '\0';
				} else {
					snprintf(e.msg, sizeof(e.msg),
						 "usermod --add-subuids %lu-%lu failed", first,
						 last);
				}
			}
			if (e.msg[0]) {
				if (allocated)
					del_subids(user, first, last);
				if (wrote)
					unlink(f.path);
				ctl_die(EXIT_PROBLEM,
					"subordinate ids of %s: %s; nothing was changed", user,
					e.msg);
			}
		}
		snprintf(cellsh, sizeof(cellsh), "%s", c->cellsh);
		conf_free(c);
		free(c);
	}
	if (allocated && wrote) {
		/* Keep the record of what to undo next to the section. */
		char note[64];

		snprintf(note, sizeof(note), "subids=%lu-%lu", first, last);
		dropin_note(&f, note);
	}
	/* 3. The group sshd's snippet matches. */
	{
		struct group *gr = getgrnam(CELL_GROUP);

		if (!gr && ctl_run("/usr/sbin/groupadd", "--system", CELL_GROUP, NULL) == 0) {
			printf("created the system group %s (the sshd snippet matches it)\n",
			       CELL_GROUP);
			mark_group_created(&f);
			gr = getgrnam(CELL_GROUP);
		}
		if (gr && !in_group(pw, gr->gr_gid) &&
		    ctl_run("/usr/sbin/usermod", "-aG", CELL_GROUP, user, NULL) == 0) {
			joined = true;
			printf("added %s to group %s\n", user, CELL_GROUP);
			if (strstr(d->match.why, f.path) || wrote)
				dropin_note(&f, "group=" CELL_GROUP);
		}
		if (!gr || (!joined && !in_group(pw, gr->gr_gid))) {
			if (wrote)
				unlink(f.path);
			if (allocated)
				del_subids(user, first, last);
			ctl_die(EXIT_PROBLEM,
				"could not put %s in group %s (groupadd/usermod failed); nothing "
				"was changed",
				user, CELL_GROUP);
		}
	}
	/* 4. The shell: the login is confined from here on. */
	add_shell(cellsh);
	if (strcmp(old_shell, cellsh) != 0 && set_shell(user, cellsh) < 0) {
		if (joined)
			ctl_run("/usr/bin/gpasswd", "-d", user, CELL_GROUP, NULL);
		if (wrote)
			unlink(f.path);
		if (allocated)
			del_subids(user, first, last);
		ctl_die(EXIT_PROBLEM, "usermod -s %s %s failed; nothing was changed", cellsh, user);
	}
	if (!wrote && !allocated && !joined && strcmp(old_shell, cellsh) == 0)
		printf("%s is already confined by %s; nothing to change\n", user, d->match.why);
	else
		printf("%s is confined by %s; login shell %s\n", user, d->match.why, cellsh);
	host = host_processes(pw->pw_uid);
	if (host)
		printf("note: %d process(es) of %s from before still run on the host, unconfined: "
		       "end them with 'pkill -KILL -u %s' (which ends their live cells too)\n",
		       host, user, user);
	if (d->have_acct)
		account_free(&d->acct);
	free(d);
	return EXIT_OK;
}

int cmd_disable(struct ctl *ctl, int argc, char **argv)
{
	struct login_decision *d = calloc(1, sizeof(*d));
	char line[512], shell[512] = "/bin/bash", parked[440], subids[512] = "";
	bool joined = false;
	struct cell_record *cells;
	struct dropin f;
	struct passwd *pw;
	size_t live;
	FILE *in;

	if (argc != 2 || argv[1][0] == '-')
		ctl_die(EXIT_USAGE, "usage: cellctl disable USER");
	if (!d || !(pw = getpwnam(argv[1])))
		ctl_die(EXIT_PROBLEM, "no user %s", argv[1]);
	dropin_paths(ctl->conf, argv[1], &f);
	in = fopen(f.path, "re");
	if (!in) {
		decide(ctl->conf, argv[1], d);
		if (d->verdict == LOGIN_CONFINE)
			ctl_die(EXIT_PROBLEM,
				"%s is confined by %s, not by cellctl enable: change that section "
				"(or the user's groups) instead",
				argv[1], d->match.why);
		printf("%s is not enabled (no %s); nothing to do\n", argv[1], f.path);
		return EXIT_OK;
	}
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "# cellctl: shell=", 17) == 0)
			snprintf(shell, sizeof(shell), "%s", line + 17);
		if (strncmp(line, "# cellctl: subids=", 18) == 0)
			snprintf(subids, sizeof(subids), "%s", line + 18);
		if (strcmp(line, "# cellctl: group=" CELL_GROUP) == 0)
			joined = true;
	}
	fclose(in);
	if (access(shell, X_OK) < 0 || strstr(shell, "cellsh"))
		snprintf(shell, sizeof(shell), "/bin/bash");
	/* 1. Out of the group enable put them in (the section still confines). */
	if (joined && ctl_run("/usr/bin/gpasswd", "-d", argv[1], CELL_GROUP, NULL) != 0)
		ctl_die(EXIT_PROBLEM, "gpasswd -d %s %s failed; nothing was changed", argv[1],
			CELL_GROUP);
	/* 2. The section goes (parked, so it can come back): a login now gets
	 * cellsh without a cell, which refuses. */
	snprintf(parked, sizeof(parked), "%s.disabling", f.path);
	if (rename(f.path, parked) < 0) {
		if (joined)
			ctl_run("/usr/sbin/usermod", "-aG", CELL_GROUP, argv[1], NULL);
		ctl_die(EXIT_PROBLEM, "moving %s: %s", f.path, strerror(errno));
	}
	decide(ctl->conf, argv[1], d);
	if (d->verdict == LOGIN_CONFINE || d->verdict == LOGIN_REFUSE) {
		rename(parked, f.path);
		if (joined)
			ctl_run("/usr/sbin/usermod", "-aG", CELL_GROUP, argv[1], NULL);
		ctl_die(EXIT_PROBLEM, "%s would still be %s: %s; nothing was changed", argv[1],
			d->verdict == LOGIN_CONFINE ? "confined" : "refused",
			d->verdict == LOGIN_CONFINE ? d->match.why : d->why);
	}
	/* 3. The shell back. */
	if (strcmp(pw->pw_shell, shell) != 0 && set_shell(argv[1], shell) < 0) {
		rename(parked, f.path);
		if (joined)
			ctl_run("/usr/sbin/usermod", "-aG", CELL_GROUP, argv[1], NULL);
		ctl_die(EXIT_PROBLEM, "usermod -s %s %s failed; nothing was changed", shell,
			argv[1]);
	}
	unlink(parked);
	printf("%s is no longer confined; login shell %s\n", argv[1], shell);
	if (*subids && (pw = getpwnam(argv[1])))
		release_subids(pw, subids);
	live = ctl_cells(argv[1], &cells);
	free(cells);
	if (live)
		printf("%zu live cell(s) of %s run on until their sessions end (cellctl stop %s)\n",
		       live, argv[1], argv[1]);
	if (d->have_acct)
		account_free(&d->acct);
	free(d);
	return EXIT_OK;
}
