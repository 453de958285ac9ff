// SPDX-License-Identifier: MIT
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

/* A directory entry of root's, by fd, never through a link: made (mode) if
 * create, then checked. private: nobody but root may even search it. */
static int root_dir_at(int parent, const char *name, const char *shown, bool create, bool private,
		       struct cell_err *e)
{
	struct stat st;
	int fd;

	/* NAME/ is searchable (0711): PID 1 walks it to upper/ and work/. */
	if (create && mkdirat(parent, name, 0700) == 0) {
		/* Whatever the login program's umask; parent is root's 0700. */
		if (fchmodat(parent, name, private ? 0700 : 0711, 0) < 0)
			return cell_err_sys(e, "chmod %s", shown);
	} else if (create && errno != EEXIST) {
		return cell_err_sys(e, "mkdir %s", shown);
	}
	fd = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return cell_err_set(e, ENOTDIR,
					    "%s is not a directory (a link, a FIFO or a file "
					    "planted there?): remove it",
					    shown);
		return cell_err_sys(e, "opening %s", shown);
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return cell_err_sys(e, "fstat %s", shown);
	}
	if (st.st_uid != 0 || (st.st_mode & (private ? 0077 : 0022))) {
		close(fd);
		return cell_err_set(e, EPERM,
				    "%s is owned by uid %u with mode %04o: must be root's "
				    "and %s (fix with 'chown root: %s; chmod %s %s')",
				    shown, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
				    private ? "0700" : "not group- or other-writable", shown,
				    private ? "0700" : "go-w", shown);
	}
	return fd;
}

static int state_dir(struct cell_err *e)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	_cleanup_close_ int fd =
		(int)syscall(SYS_openat2, AT_FDCWD, CELL_STATE_DIR, &how, sizeof(how));
	struct stat st;

	if (fd < 0)
		return cell_err_sys(e, "opening " CELL_STATE_DIR
				       " (no image was imported: cellctl image import NAME TREE)");
	if (fstat(fd, &st) < 0)
		return cell_err_sys(e, "fstat " CELL_STATE_DIR);
	if (st.st_uid != 0 || (st.st_mode & 0022))
		return cell_err_set(e, EPERM,
				    CELL_STATE_DIR " is not root's or is group/other-writable: fix "
						   "with 'chown root: %s; chmod go-w %s'",
				    CELL_STATE_DIR, CELL_STATE_DIR);
	return steal_fd(&fd);
}

int image_open(const char *name, struct cell_err *e)
{
	_cleanup_close_ int state = -1, images = -1;
	char shown[128];

	if (!conf_image_name_ok(name))
		return cell_err_set(e, EINVAL, "'%s' is not an image name", name);
	state = state_dir(e);
	if (state < 0)
		return -1;
	images = root_dir_at(state, "images", CELL_STATE_DIR "/images", false, false, e);
	if (images < 0)
		return -1;
	snprintf(shown, sizeof(shown), CELL_STATE_DIR "/images/%s", name);
	if (faccessat(images, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return cell_err_set(e, ENOENT,
				    "there is no image %s: import it with 'cellctl image import %s "
				    "TARBALL|DIR' (cellctl image list shows the images)",
				    name, name);
	return root_dir_at(images, name, shown, false, false, e);
}

int image_user_home(const char *user, bool create, struct cell_err *e)
{
	_cleanup_close_ int state = -1, users = -1;
	char shown[512];

	/* Names from NSS: nothing that could leave users/. */
	if (!*user || *user == '.' || strchr(user, '/'))
		return cell_err_set(e, EINVAL, "user '%s' cannot name a directory", user);
	state = state_dir(e);
	if (state < 0)
		return -1;
	users = root_dir_at(state, "users", CELL_STATE_DIR "/users", create, true, e);
	if (users < 0)
		return -1;
	snprintf(shown, sizeof(shown), CELL_STATE_DIR "/users/%s", user);
	if (!create && faccessat(users, user, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return cell_err_set(e, ENOENT, "%s does not exist", shown);
	return root_dir_at(users, user, shown, create, true, e);
}

int image_user_dir(const char *user, const char *name, bool create, struct cell_err *e)
{
	_cleanup_close_ int mine = -1;
	char shown[512];

	if (!conf_image_name_ok(name))
		return cell_err_set(e, EINVAL, "'%s' is not an image name", name);
	mine = image_user_home(user, create, e);
	if (mine < 0)
		return -1;
	snprintf(shown, sizeof(shown), CELL_STATE_DIR "/users/%s/%s", user, name);
	if (!create && faccessat(mine, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return cell_err_set(e, ENOENT, "%s does not exist", shown);
	return root_dir_at(mine, name, shown, create, false, e);
}

/* upper/ or work/ of the user's directory: made for the cell's root if
 * missing, and still that owner's (an identity change needs a reset). */
static int layer_dir(int dir, const char *name, const char *user, const char *image, uid_t owner,
		     gid_t group, struct cell_err *e)
{
	struct stat st;
	int fd;

	/* dir is root's 0700: nobody else can put anything in it meanwhile. */
	if (mkdirat(dir, name, 0755) == 0) {
		if (fchownat(dir, name, owner, group, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(dir, name, 0755, 0) < 0)
			return cell_err_sys(e, "preparing the %s layer of %s", name, user);
	} else if (errno != EEXIST) {
		return cell_err_sys(e, "mkdir %s/users/%s/%s/%s", CELL_STATE_DIR, user, image,
				    name);
	}
	fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cell_err_sys(e, "opening %s/users/%s/%s/%s", CELL_STATE_DIR, user, image,
				    name);
	if (fstat(fd, &st) < 0 || st.st_uid != owner) {
		close(fd);
		return cell_err_set(
			e, EPERM,
			"%s/users/%s/%s/%s belongs to uid %u, not to this cell's root "
			"(uid %u on the host): the profile's identity or subordinate "
			"range changed; start it afresh with 'cellctl user reset %s %s'",
			CELL_STATE_DIR, user, image, name, (unsigned)st.st_uid, (unsigned)owner,
			user, image);
	}
	return fd;
}

int image_prepare(const char *name, const char *user, int userns, bool persistent, uid_t owner,
		  gid_t group, struct image_fds *out, struct cell_err *e)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY |
					       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
				   .userns_fd = (unsigned long long)userns };
	struct mount_attr layers_attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	_cleanup_close_ int img = -1, dir = -1, upper = -1, work = -1;

	*out = (struct image_fds){ -1, -1 };
	img = image_open(name, e);
	if (img < 0)
		return -1;
	/* A private copy of the image's mount, shown through the cell's id
	 * map: root's files are the cell's root's, and nothing can write. */
	out->lower = open_tree(img, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (out->lower < 0)
		return cell_err_sys(e, "cloning image %s", name);
	if (mount_setattr(out->lower, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		cell_err_sys(e,
			     "an idmapped mount of image %s (does its filesystem support "
			     "idmapped mounts? cellctl check tells)",
			     name);
		image_fds_close(out);
		return -1;
	}
	if (!persistent)
		return 0;
	/* PID 1 cannot reach users/ by path (root's 0700): it gets NAME/ as a
	 * mount of its own, which overlayfs accepts once attached in the
	 * cell's mount namespace. */
	dir = image_user_dir(user, name, true, e);
	if (dir < 0 || (upper = layer_dir(dir, "upper", user, name, owner, group, e)) < 0 ||
	    (work = layer_dir(dir, "work", user, name, owner, group, e)) < 0) {
		image_fds_close(out);
		return -1;
	}
	out->layers = open_tree(dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (out->layers < 0 ||
	    mount_setattr(out->layers, "", AT_EMPTY_PATH, &layers_attr, sizeof(layers_attr)) < 0) {
		cell_err_sys(e, "a mount of %s/users/%s/%s", CELL_STATE_DIR, user, name);
		image_fds_close(out);
		return -1;
	}
	return 0;
}

void image_fds_close(struct image_fds *f)
{
	int *fds[] = { &f->lower, &f->layers };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}
