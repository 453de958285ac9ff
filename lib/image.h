/* SPDX-License-Identifier: MIT */
#ifndef CELL_IMAGE_H
#define CELL_IMAGE_H

/*
 * rootfs = image:NAME, the root side (the monitor, and cellctl). Layout,
 * every directory root's and reached without following a link:
 *   CELL_STATE_DIR/                    root, not group/other-writable
 *     images/NAME/                     the base tree, root's, read-only to cells
 *     users/                           root, 0700
 *       USER/                          root, 0700
 *         NAME/                        root, 0711, flock'd by the cell using it
 *           layers.ext4                root, 0600: a sparse file of upper_max
 *                                      bytes, an ext4 holding upper/ and work/
 *           upper/ work/               upper_max = none: the layers themselves
 * upper/ and work/ are the cell's root's (its uid 0 on the host). No user
 * can reach anything under users/ on the host: PID 1 gets the layers as a
 * detached mount. Nothing here reads what a user wrote, but the kernel's
 * ext4 driver reads the layers filesystem, which only it ever wrote.
 */
#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

/* What a persistent upper with upper_max needs on the host. */
#define IMAGE_MKFS	   "/sbin/mkfs.ext4"
#define IMAGE_LOOP_CONTROL "/dev/loop-control"

struct image_fds {
	int lower;  /* the image, idmapped into the cell, read-only, detached */
	int layers; /* overlay = persistent: the user's layers.ext4 mounted, or
		     * users/USER/NAME (upper/ and work/ in it; overlayfs wants
		     * them on one mount), detached; else -1 */
	int lock;   /* persistent: users/USER/NAME, flock'd; hold it while the
		     * cell lives; else -1 */
};

/* The image directory (O_PATH), checked: root's, not group/other-writable. */
int image_open(const char *name, struct cell_err *e);

/* users/USER (O_PATH), made if create; ENOENT in e->code when missing. */
int image_user_home(const char *user, bool create, struct cell_err *e);

/* The user's directory for image NAME under users/ (O_PATH), made if
 * create; -1 with ENOENT in e->code when it is not there and !create. */
int image_user_dir(const char *user, const char *name, bool create, struct cell_err *e);

/* Everything PID 1 needs for image NAME; userns is the cell's user
 * namespace (an fd), the upper's owner the host ids of the cell's uid 0;
 * upper_max the persistent upper's size (0: unlimited, on the host's
 * filesystem). EBUSY in e->code: another cell uses the upper. */
int image_prepare(const char *name, const char *user, int userns, bool persistent,
		  unsigned long long upper_max, uid_t owner, gid_t group, struct image_fds *out,
		  struct cell_err *e);

void image_fds_close(struct image_fds *f);

#endif
