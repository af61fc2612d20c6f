/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GL read-back of dma-bufs, for builds without OpenGL: never available.
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "ui/egl-readback.h"

EglReadback *egl_readback_new(Error **errp)
{
    error_setg(errp, "QEMU was built without OpenGL");
    return NULL;
}

bool egl_readback_importable(EglReadback *rb, uint32_t fourcc,
                             uint64_t modifier)
{
    return false;
}

void egl_readback_free(EglReadback *rb)
{
}

bool egl_readback_software(EglReadback *rb)
{
    g_assert_not_reached();
}

bool egl_readback_raw(EglReadback *rb, int fd, uint32_t stride,
                      uint32_t rows, void *dst, Error **errp)
{
    g_assert_not_reached();
}

EglReadbackImage *egl_readback_image_new(EglReadback *rb, int fd,
                                         uint32_t stride, uint32_t first,
                                         uint32_t step, uint32_t count,
                                         Error **errp)
{
    g_assert_not_reached();
}

bool egl_readback_image_read(EglReadback *rb, EglReadbackImage *im,
                             void *dst, Error **errp)
{
    g_assert_not_reached();
}

void egl_readback_image_free(EglReadback *rb, EglReadbackImage *im)
{
}

pixman_image_t *egl_readback_dmabuf(EglReadback *rb, QemuDmaBuf *dmabuf,
                                    Error **errp)
{
    g_assert_not_reached();
}

pixman_image_t *egl_readback_console(QemuConsole *con, Error **errp)
{
    error_setg(errp, "no surface");
    return NULL;
}
