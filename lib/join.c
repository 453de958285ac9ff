// SPDX-License-Identifier: MIT
#include "join.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

#include "proto.h"
#include "util.h"

void cell_join_close(struct cell_join *j)
{
	for (int i = 0; i < NS_COUNT; i++)
		closep(&j->nsfd[i]), j->nsfd[i] = -1;
	closep(&j->pidfd);
	j->pidfd = -1;
}

int cell_verify(const struct cell_record *rec, uid_t owner, struct cell_join *j, struct cell_err *e)
{
	_cleanup_close_ int procfd = -1, piddir = -1;
	const char *id = rec->id;
	uid_t uowner, puid;
	struct stat st;

	memset(j, 0, sizeof(*j));
	for (int i = 0; i < NS_COUNT; i++)
		j->nsfd[i] = -1;
	j->pidfd = -1;
	j->rec = *rec;
	if (rec->uid != owner)
		return cell_err_set(e, EPERM, "cell %s belongs to user %s (uid %u), not to uid %u",
				    id, rec->user, (unsigned)rec->uid, (unsigned)owner);
	procfd = proc_open_root(e);
	if (procfd < 0)
		return -1;
	j->pidfd = proc_pin(procfd, rec->pid, rec->starttime, &piddir, e);
	if (j->pidfd < 0)
		return cell_err_prefix(e, "cell %s: its PID 1: ", id);
	if (proc_uid(piddir, &puid, e) < 0)
		goto fail;
	if (puid != owner) {
		cell_err_set(e, EPERM, "cell %s: PID 1 runs as uid %u, not %u", id, (unsigned)puid,
			     (unsigned)owner);
		goto fail;
	}
	for (int i = 0; i < NS_COUNT; i++) {
		char name[32];

		if (i == NS_NET && rec->ns[i] == 0)
			continue; /* net = host */
		snprintf(name, sizeof(name), "ns/%s", ns_names[i]);
		j->nsfd[i] = openat(piddir, name, O_RDONLY | O_CLOEXEC);
		if (j->nsfd[i] < 0) {
			cell_err_sys(e, "cell %s: opening its %s namespace", id, ns_names[i]);
			goto fail;
		}
		if (fstat(j->nsfd[i], &st) < 0 || (unsigned long)st.st_ino != rec->ns[i]) {
			cell_err_set(e, EPERM, "cell %s: %s namespace is not the recorded one", id,
				     ns_names[i]);
			goto fail;
		}
	}
	if (ioctl(j->nsfd[NS_USER], NS_GET_OWNER_UID, &uowner) < 0 || uowner != owner) {
		cell_err_set(e, EPERM, "cell %s: its user namespace is not owned by uid %u", id,
			     (unsigned)owner);
		goto fail;
	}
	/* Still the same process: the fds above are its namespaces. */
	if (!pidfd_alive(j->pidfd)) {
		cell_err_set(e, ESRCH, "cell %s ended while joining", id);
		goto fail;
	}
	return 0;
fail:
	cell_join_close(j);
	return -1;
}

int cell_open(const char *id, uid_t caller, struct cell_join *j, struct cell_err *e)
{
	struct cell_record rec;

	memset(j, 0, sizeof(*j));
	for (int i = 0; i < NS_COUNT; i++)
		j->nsfd[i] = -1;
	j->pidfd = -1;
	if (registry_read(id, &rec, e) < 0)
		return -1;
	return cell_verify(&rec, caller, j, e);
}

int cell_enter(struct cell_join *j, struct cell_err *e)
{
	/* User first: it grants the rights to join the others; mount last. */
	static const int order[] = { NS_USER, NS_TIME, NS_NET, NS_CGROUP,
				     NS_IPC,  NS_UTS,  NS_PID, NS_MNT };

	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		int i = order[k];

		if (j->nsfd[i] < 0 && i == NS_NET)
			continue; /* net = host: the host's, which we are in */
		if (setns(j->nsfd[i], ns_clone_flags[i]) < 0)
			return cell_err_sys(e, "joining the cell's %s namespace", ns_names[i]);
	}
	return 0;
}

int cell_join_cgroup(const char *id, struct cell_err *e)
{
	_cleanup_close_ int fd = registry_join_connect(id, e);
	struct cell_msg m;

	if (fd < 0)
		return cell_err_prefix(e, "cell %s: ", id);
	if (msg_recv(fd, &m, now_ms() + JOIN_TIMEOUT_MS, e) < 0)
		return cell_err_prefix(e, "cell %s: waiting for its monitor: ", id);
	if (m.type == MSG_ERROR)
		return cell_err_set(e, m.code,
				    "cell %s: its monitor refused to move us into its "
				    "cgroup: %s",
				    id, m.text);
	if (m.type != MSG_MOVED)
		return cell_err_set(e, EPROTO, "cell %s: unexpected answer '%c' from its monitor",
				    id, m.type);
	return 0;
}
