/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GL read-back of dma-bufs: import as an EGLImage, attach to a
 * framebuffer, glReadPixels.  The buffer is imported as raw 32-bit
 * texels so that every format and tiling reads back byte for byte; the
 * caller decodes and detiles.
 */
#include "qemu/osdep.h"
#include <epoxy/egl.h>
#include <epoxy/gl.h>

#include "qapi/error.h"
#include "standard-headers/drm/drm_fourcc.h"
#include "ui/egl-readback.h"
#include "trace.h"

struct EglReadback {
    EGLDisplay dpy;
    EGLContext ctx;
    EGLenum api;
    bool modifiers;             /* EGL_EXT_image_dma_buf_import_modifiers */
    GLint max_size;
};

/* the caller's EGL state, put back after each read */
typedef struct EglCurrent {
    EGLDisplay dpy;
    EGLContext ctx;
    EGLSurface draw, read;
    EGLenum api;
} EglCurrent;

static void egl_current_save(EglCurrent *c)
{
    c->api = eglQueryAPI();
    c->dpy = eglGetCurrentDisplay();
    c->ctx = eglGetCurrentContext();
    c->draw = eglGetCurrentSurface(EGL_DRAW);
    c->read = eglGetCurrentSurface(EGL_READ);
}

static void egl_current_restore(EglReadback *rb, const EglCurrent *c)
{
    if (c->ctx != EGL_NO_CONTEXT) {
        eglBindAPI(c->api);
        eglMakeCurrent(c->dpy, c->draw, c->read, c->ctx);
    } else {
        eglMakeCurrent(rb->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE,
                       EGL_NO_CONTEXT);
        eglBindAPI(c->api);
    }
}

static EGLDisplay egl_readback_display(Error **errp)
{
    EGLDisplay dpy = eglGetCurrentDisplay();
    EGLint major, minor;

    if (dpy != EGL_NO_DISPLAY) {
        return dpy;             /* a GL UI's display, initialized */
    }
    if (!epoxy_has_egl_extension(NULL, "EGL_MESA_platform_surfaceless")) {
        error_setg(errp, "EGL has no surfaceless platform");
        return EGL_NO_DISPLAY;
    }
    dpy = eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA,
                                   EGL_DEFAULT_DISPLAY, NULL);
    if (dpy == EGL_NO_DISPLAY || !eglInitialize(dpy, &major, &minor)) {
        error_setg(errp, "cannot initialize an EGL display (0x%x)",
                   eglGetError());
        return EGL_NO_DISPLAY;
    }
    return dpy;
}

static bool egl_readback_check(EglReadback *rb, Error **errp)
{
    static const char *const need[] = {
        "EGL_EXT_image_dma_buf_import", "EGL_KHR_surfaceless_context",
        "EGL_KHR_no_config_context",
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(need); i++) {
        if (!epoxy_has_egl_extension(rb->dpy, need[i])) {
            error_setg(errp, "EGL has no %s", need[i]);
            return false;
        }
    }
    rb->modifiers = epoxy_has_egl_extension(rb->dpy,
                                    "EGL_EXT_image_dma_buf_import_modifiers");
    return true;
}

EglReadback *egl_readback_new(Error **errp)
{
    static const EGLint attr[] = { EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE };
    EglReadback *rb = g_new0(EglReadback, 1);
    EglCurrent cur;

    egl_current_save(&cur);
    rb->dpy = egl_readback_display(errp);
    if (rb->dpy == EGL_NO_DISPLAY || !egl_readback_check(rb, errp)) {
        g_free(rb);
        return NULL;
    }
    rb->api = EGL_OPENGL_ES_API;
    eglBindAPI(rb->api);
    rb->ctx = eglCreateContext(rb->dpy, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT,
                               attr);
    if (rb->ctx == EGL_NO_CONTEXT ||
        !eglMakeCurrent(rb->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, rb->ctx)) {
        error_setg(errp, "cannot create an EGL context (0x%x)",
                   eglGetError());
        egl_current_restore(rb, &cur);
        g_free(rb);
        return NULL;
    }
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &rb->max_size);
    trace_egl_readback_new((const char *)glGetString(GL_RENDERER),
                           rb->max_size);
    egl_current_restore(rb, &cur);
    return rb;
}

void egl_readback_free(EglReadback *rb)
{
    if (rb) {
        eglDestroyContext(rb->dpy, rb->ctx);
        g_free(rb);
    }
}

static EGLImageKHR egl_readback_import(EglReadback *rb, int fd,
                                       uint32_t stride, uint32_t rows)
{
    EGLint attr[] = {
        EGL_WIDTH, stride / 4,
        EGL_HEIGHT, rows,
        EGL_LINUX_DRM_FOURCC_EXT, DRM_FORMAT_ABGR8888,
        EGL_DMA_BUF_PLANE0_FD_EXT, fd,
        EGL_DMA_BUF_PLANE0_OFFSET_EXT, 0,
        EGL_DMA_BUF_PLANE0_PITCH_EXT, stride,
        /* raw bytes: linear, whatever tiling the buffer holds */
        EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT, 0,
        EGL_DMA_BUF_PLANE0_MODIFIER_HI_EXT, 0,
        EGL_NONE,
    };

    if (!rb->modifiers) {
        attr[12] = EGL_NONE;
    }
    return eglCreateImageKHR(rb->dpy, EGL_NO_CONTEXT, EGL_LINUX_DMA_BUF_EXT,
                             NULL, attr);
}

/* with our context current: the image's texels into @dst */
static bool egl_readback_read(EGLImageKHR img, uint32_t stride,
                              uint32_t rows, void *dst, Error **errp)
{
    GLuint tex, fb;
    GLenum status, err;

    glGenTextures(1, &tex);
    glBindTexture(GL_TEXTURE_2D, tex);
    glEGLImageTargetTexture2DOES(GL_TEXTURE_2D, (GLeglImageOES)img);
    glGenFramebuffers(1, &fb);
    glBindFramebuffer(GL_FRAMEBUFFER, fb);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
                           GL_TEXTURE_2D, tex, 0);
    status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
    if (status == GL_FRAMEBUFFER_COMPLETE) {
        glPixelStorei(GL_PACK_ALIGNMENT, 4);
        glReadPixels(0, 0, stride / 4, rows, GL_RGBA, GL_UNSIGNED_BYTE, dst);
    }
    err = glGetError();
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glDeleteFramebuffers(1, &fb);
    glDeleteTextures(1, &tex);
    if (status != GL_FRAMEBUFFER_COMPLETE || err != GL_NO_ERROR) {
        error_setg(errp, "GL read-back failed (framebuffer 0x%x, error 0x%x)",
                   status, err);
        return false;
    }
    return true;
}

bool egl_readback_raw(EglReadback *rb, int fd, uint32_t stride,
                      uint32_t rows, void *dst, Error **errp)
{
    EGLImageKHR img;
    EglCurrent cur;
    bool ret;

    if (!stride || stride % 4 || stride / 4 > rb->max_size || !rows ||
        rows > rb->max_size) {
        error_setg(errp, "a %u-byte stride x %u rows buffer cannot be read "
                   "back (GL textures up to %d)", stride, rows, rb->max_size);
        return false;
    }
    egl_current_save(&cur);
    eglBindAPI(rb->api);
    if (!eglMakeCurrent(rb->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, rb->ctx)) {
        error_setg(errp, "eglMakeCurrent failed (0x%x)", eglGetError());
        egl_current_restore(rb, &cur);
        return false;
    }
    img = egl_readback_import(rb, fd, stride, rows);
    if (img == EGL_NO_IMAGE_KHR) {
        error_setg(errp, "EGL cannot import the dma-buf (0x%x)",
                   eglGetError());
        ret = false;
    } else {
        ret = egl_readback_read(img, stride, rows, dst, errp);
        eglDestroyImageKHR(rb->dpy, img);
    }
    trace_egl_readback_raw(fd, stride, rows, ret);
    egl_current_restore(rb, &cur);
    return ret;
}
