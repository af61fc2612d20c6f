/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GL read-back of dma-bufs: import as an EGLImage, attach to a
 * framebuffer, glReadPixels.  Display devices read a buffer as raw 32-bit
 * texels, so that every format and tiling reads back byte for byte, and
 * decode and detile it themselves; QMP screendump reads the dma-buf a GL
 * console scans out into a pixman image.
 */
#include "qemu/osdep.h"
#include <dlfcn.h>
#include <epoxy/egl.h>
#include <epoxy/gl.h>

#include "qapi/error.h"
#include "standard-headers/drm/drm_fourcc.h"
#include "ui/dmabuf.h"
#include "ui/egl-readback.h"
#include "console-priv.h"
#include "trace.h"

struct EglReadback {
    EGLDisplay dpy;
    EGLContext ctx;
    EGLenum api;
    bool modifiers;             /* EGL_EXT_image_dma_buf_import_modifiers */
    bool software;              /* a CPU rasterizer, no GPU */
    GLint max_size;
    GLuint idle_tex, idle_fb;   /* egl_readback_forget() */
    const struct GlxApi *glx;   /* the UI's GLX, looked up once, or NULL */
};

/*
 * GLX, as a UI on X11 uses it on the main thread: SDL's 2D renderer and
 * SDL gl=on keep a GLX context current there.  libglvnd makes no EGL
 * context current while another window system's is (EGL_BAD_ACCESS), so
 * a read borrows the thread: the GLX context is released for it and made
 * current again after.  Looked up in a libGLX the process has loaded
 * already, never loaded here (X11 types as the ABI passes them).
 */
typedef struct GlxApi {
    void *(*get_context)(void);
    void *(*get_display)(void);
    unsigned long (*get_draw)(void);
    unsigned long (*get_read)(void);
    int (*make_current)(void *dpy, unsigned long draw, unsigned long read,
                        void *ctx);
} GlxApi;

/*
 * Once per EglReadback, when it is made: by then the UI has loaded its
 * GL; a read must not search the loader every frame.
 */
static const GlxApi *glx_api(void)
{
    static const char *const libs[] = { "libGLX.so.0", "libGL.so.1" };
    static GlxApi api;
    GlxApi found;
    void *lib;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(libs) && !api.make_current; i++) {
        lib = dlopen(libs[i], RTLD_LAZY | RTLD_NOLOAD);
        if (!lib) {
            continue;
        }
        found.get_context = dlsym(lib, "glXGetCurrentContext");
        found.get_display = dlsym(lib, "glXGetCurrentDisplay");
        found.get_draw = dlsym(lib, "glXGetCurrentDrawable");
        found.get_read = dlsym(lib, "glXGetCurrentReadDrawable");
        found.make_current = dlsym(lib, "glXMakeContextCurrent");
        dlclose(lib);           /* still loaded: the UI's */
        if (found.get_context && found.get_display && found.get_draw &&
            found.get_read && found.make_current) {
            api = found;
        }
    }
    return api.make_current ? &api : NULL;
}

/* the caller's EGL state (or GLX context), put back after each read */
typedef struct EglCurrent {
    EGLDisplay dpy;
    EGLContext ctx;
    EGLSurface draw, read;
    EGLenum api;
    void *glx_dpy, *glx_ctx;
    unsigned long glx_draw, glx_read;
} EglCurrent;

static void egl_current_save(EglReadback *rb, EglCurrent *c)
{
    const GlxApi *glx = rb->glx;

    c->api = eglQueryAPI();
    c->dpy = eglGetCurrentDisplay();
    c->ctx = eglGetCurrentContext();
    c->draw = eglGetCurrentSurface(EGL_DRAW);
    c->read = eglGetCurrentSurface(EGL_READ);
    c->glx_ctx = glx ? glx->get_context() : NULL;
    if (c->glx_ctx) {
        c->glx_dpy = glx->get_display();
        c->glx_draw = glx->get_draw();
        c->glx_read = glx->get_read();
        glx->make_current(c->glx_dpy, 0, 0, NULL);
    }
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
    if (c->glx_ctx) {
        rb->glx->make_current(c->glx_dpy, c->glx_draw, c->glx_read,
                              c->glx_ctx);
    }
}

static EGLDisplay egl_readback_display(Error **errp)
{
    EGLDisplay dpy = eglGetCurrentDisplay();
    EGLint major, minor;

    /* a GL UI's display, initialized, if it imports dma-bufs */
    if (dpy != EGL_NO_DISPLAY &&
        epoxy_has_egl_extension(dpy, "EGL_EXT_image_dma_buf_import")) {
        return dpy;
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
    const char *renderer;
    EglCurrent cur;

    rb->dpy = egl_readback_display(errp);
    if (rb->dpy == EGL_NO_DISPLAY || !egl_readback_check(rb, errp)) {
        g_free(rb);
        return NULL;
    }
    rb->glx = glx_api();
    egl_current_save(rb, &cur);
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
    renderer = (const char *)glGetString(GL_RENDERER);
    rb->software = renderer && (strstr(renderer, "llvmpipe") ||
                                strstr(renderer, "softpipe") ||
                                strstr(renderer, "swrast"));
    trace_egl_readback_new(renderer ? renderer : "", rb->max_size);
    egl_current_restore(rb, &cur);
    return rb;
}

bool egl_readback_software(EglReadback *rb)
{
    return rb->software;
}

/* a packed YUV format: a GL_TEXTURE_2D import needs a driver's word */
static bool egl_readback_yuv(uint32_t fourcc)
{
    return fourcc == DRM_FORMAT_YUYV || fourcc == DRM_FORMAT_YVYU ||
           fourcc == DRM_FORMAT_UYVY || fourcc == DRM_FORMAT_VYUY;
}

/*
 * Does eglQueryDmaBufModifiersEXT list @modifier for @fourcc (or, where
 * it lists none for the format, is it a linear RGB buffer)?  In our
 * context.
 */
static bool egl_readback_lists(EglReadback *rb, uint32_t fourcc,
                               uint64_t modifier)
{
    EGLint n = 0, i;
    g_autofree EGLuint64KHR *mods = NULL;
    g_autofree EGLBoolean *external = NULL;

    if (!eglQueryDmaBufModifiersEXT(rb->dpy, fourcc, 0, NULL, NULL, &n)) {
        return false;           /* EGL does not know the format */
    }
    if (n == 0) {
        /* a format EGL knows, with no modifiers listed: linear only */
        return modifier == DRM_FORMAT_MOD_LINEAR && !egl_readback_yuv(fourcc);
    }
    mods = g_new0(EGLuint64KHR, n);
    /* Mesa 25 leaves it unwritten for formats that are never external */
    external = g_new0(EGLBoolean, n);
    if (!eglQueryDmaBufModifiersEXT(rb->dpy, fourcc, n, mods, external, &n)) {
        return false;
    }
    for (i = 0; i < n; i++) {
        /* an external-only import needs a sampler a console has not */
        if (mods[i] == modifier && !external[i]) {
            return true;
        }
    }
    return false;
}

void egl_readback_free(EglReadback *rb)
{
    if (rb) {
        eglDestroyContext(rb->dpy, rb->ctx);
        g_free(rb);
    }
}

/*
 * Import @fd from byte @offset on as one plane of @fourcc; @modifier only
 * if EGL takes them.
 */
static EGLImageKHR egl_readback_import(EglReadback *rb, int fd,
                                       uint32_t fourcc, uint64_t modifier,
                                       uint32_t width, uint32_t rows,
                                       uint32_t offset, uint32_t stride)
{
    EGLint attr[] = {
        EGL_WIDTH, width,
        EGL_HEIGHT, rows,
        EGL_LINUX_DRM_FOURCC_EXT, fourcc,
        EGL_DMA_BUF_PLANE0_FD_EXT, fd,
        EGL_DMA_BUF_PLANE0_OFFSET_EXT, offset,
        EGL_DMA_BUF_PLANE0_PITCH_EXT, stride,
        EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT, modifier & 0xffffffff,
        EGL_DMA_BUF_PLANE0_MODIFIER_HI_EXT, modifier >> 32,
        EGL_NONE,
    };

    if (!rb->modifiers) {
        attr[12] = EGL_NONE;
    }
    return eglCreateImageKHR(rb->dpy, EGL_NO_CONTEXT, EGL_LINUX_DMA_BUF_EXT,
                             NULL, attr);
}

/* a dma-buf imported and attached to a framebuffer, in our context */
struct EglReadbackImage {
    EGLImageKHR img;
    GLuint tex, fb;
    uint32_t width, rows;
};

/* make our context current, the caller's saved in @cur */
static bool egl_readback_use(EglReadback *rb, EglCurrent *cur, Error **errp)
{
    egl_current_save(rb, cur);
    eglBindAPI(rb->api);
    if (!eglMakeCurrent(rb->dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, rb->ctx)) {
        error_setg(errp, "eglMakeCurrent failed (0x%x)", eglGetError());
        egl_current_restore(rb, cur);
        return false;
    }
    return true;
}

/*
 * Does EGL import @fourcc with @modifier?  With the modifiers extension,
 * what it lists; without it, linear RGB buffers only.
 */
bool egl_readback_importable(EglReadback *rb, uint32_t fourcc,
                             uint64_t modifier)
{
    EglCurrent cur;
    bool takes;

    if (!rb->modifiers) {
        return modifier == DRM_FORMAT_MOD_LINEAR && !egl_readback_yuv(fourcc);
    }
    /*
     * In our context: libepoxy finds the query through the current
     * display's extensions, and a UI's GLX context has none.
     */
    if (!egl_readback_use(rb, &cur, NULL)) {
        return false;
    }
    takes = egl_readback_lists(rb, fourcc, modifier);
    egl_current_restore(rb, &cur);
    return takes;
}

/*
 * With our context current: read one pixel of a framebuffer of our own.
 * Mesa keeps the last framebuffer it read from in its state until it
 * reads another, and with it the last imported dma-buf (an fd and a
 * mapping) after we destroyed it: a vendor's buffer must not outlive
 * our release of it (mbochs would hand out its file again).
 */
static void egl_readback_forget(EglReadback *rb)
{
    static const uint32_t black;
    uint32_t px;

    if (!rb->idle_fb) {
        glGenTextures(1, &rb->idle_tex);
        glBindTexture(GL_TEXTURE_2D, rb->idle_tex);
        glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, 1, 1, 0, GL_RGBA,
                     GL_UNSIGNED_BYTE, &black);
        glBindTexture(GL_TEXTURE_2D, 0);
        glGenFramebuffers(1, &rb->idle_fb);
        glBindFramebuffer(GL_FRAMEBUFFER, rb->idle_fb);
        glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
                               GL_TEXTURE_2D, rb->idle_tex, 0);
    }
    glBindFramebuffer(GL_FRAMEBUFFER, rb->idle_fb);
    glReadPixels(0, 0, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, &px);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glGetError();
}

/* with our context current */
static void egl_readback_image_destroy(EglReadback *rb, EglReadbackImage *im)
{
    glDeleteFramebuffers(1, &im->fb);
    glDeleteTextures(1, &im->tex);
    eglDestroyImageKHR(rb->dpy, im->img);
    egl_readback_forget(rb);
    g_free(im);
}

/*
 * With our context current: import @fd from @offset on as
 * @fourcc/@modifier at @width x @rows, rows @stride bytes apart, as the
 * colour buffer of a framebuffer.
 */
static EglReadbackImage *egl_readback_image_import(EglReadback *rb, int fd,
                                                   uint32_t fourcc,
                                                   uint64_t modifier,
                                                   uint32_t width,
                                                   uint32_t rows,
                                                   uint32_t offset,
                                                   uint32_t stride,
                                                   Error **errp)
{
    EglReadbackImage *im;
    GLenum status;

    if (!width || width > rb->max_size || !rows || rows > rb->max_size) {
        error_setg(errp, "a %ux%u buffer cannot be read back (GL textures "
                   "up to %d)", width, rows, rb->max_size);
        return NULL;
    }
    if (modifier != DRM_FORMAT_MOD_LINEAR && !rb->modifiers) {
        error_setg(errp, "EGL takes no modifiers, and the buffer is tiled "
                   "(0x%" PRIx64 ")", modifier);
        return NULL;
    }
    im = g_new0(EglReadbackImage, 1);
    im->width = width;
    im->rows = rows;
    im->img = egl_readback_import(rb, fd, fourcc, modifier, width, rows,
                                  offset, stride);
    if (im->img == EGL_NO_IMAGE_KHR) {
        error_setg(errp, "EGL cannot import the dma-buf (format 0x%x "
                   "modifier 0x%" PRIx64 ": 0x%x)", fourcc, modifier,
                   eglGetError());
        g_free(im);
        return NULL;
    }
    glGenTextures(1, &im->tex);
    glBindTexture(GL_TEXTURE_2D, im->tex);
    glEGLImageTargetTexture2DOES(GL_TEXTURE_2D, (GLeglImageOES)im->img);
    glGenFramebuffers(1, &im->fb);
    glBindFramebuffer(GL_FRAMEBUFFER, im->fb);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
                           GL_TEXTURE_2D, im->tex, 0);
    status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glBindTexture(GL_TEXTURE_2D, 0);
    if (status != GL_FRAMEBUFFER_COMPLETE) {
        error_setg(errp, "GL read-back failed (framebuffer 0x%x, error 0x%x)",
                   status, glGetError());
        egl_readback_image_destroy(rb, im);
        return NULL;
    }
    return im;
}

/* with our context current: @im's RGBA texels into @dst */
static bool egl_readback_image_pixels(EglReadbackImage *im, void *dst,
                                      Error **errp)
{
    GLenum err;

    glBindFramebuffer(GL_FRAMEBUFFER, im->fb);
    glPixelStorei(GL_PACK_ALIGNMENT, 4);
    glReadPixels(0, 0, im->width, im->rows, GL_RGBA, GL_UNSIGNED_BYTE, dst);
    err = glGetError();
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    if (err != GL_NO_ERROR) {
        error_setg(errp, "GL read-back failed (error 0x%x)", err);
        return false;
    }
    return true;
}

/*
 * Import @fd from @offset on as @fourcc/@modifier at @width x @rows, rows
 * @stride bytes apart, and read @width x @rows RGBA texels into @dst, in
 * our context.
 */
static bool egl_readback_texels(EglReadback *rb, int fd, uint32_t fourcc,
                                uint64_t modifier, uint32_t width,
                                uint32_t rows, uint32_t offset,
                                uint32_t stride, void *dst, Error **errp)
{
    EglReadbackImage *im;
    EglCurrent cur;
    bool ret = false;

    if (!egl_readback_use(rb, &cur, errp)) {
        return false;
    }
    im = egl_readback_image_import(rb, fd, fourcc, modifier, width, rows,
                                   offset, stride, errp);
    if (im) {
        ret = egl_readback_image_pixels(im, dst, errp);
        egl_readback_image_destroy(rb, im);
    }
    trace_egl_readback_texels(fd, fourcc, modifier, width, rows, ret);
    egl_current_restore(rb, &cur);
    return ret;
}

EglReadbackImage *egl_readback_image_new(EglReadback *rb, int fd,
                                         uint32_t stride, uint32_t first,
                                         uint32_t step, uint32_t count,
                                         Error **errp)
{
    uint64_t offset = (uint64_t)first * stride;
    uint64_t pitch = (uint64_t)step * stride;
    EglReadbackImage *im;
    EglCurrent cur;

    if (!stride || stride % 4 || !step) {
        error_setg(errp, "a %u-byte stride cannot be read back as 32-bit "
                   "texels", stride);
        return NULL;
    }
    if (offset > INT32_MAX || pitch > INT32_MAX) {
        error_setg(errp, "rows %u + %u * n of %u bytes are beyond EGL's "
                   "reach", first, step, stride);
        return NULL;
    }
    if (!egl_readback_use(rb, &cur, errp)) {
        return NULL;
    }
    /*
     * Raw bytes: 4-byte texels, linear, whatever the buffer holds; rows
     * @step apart are one image whose pitch is @step rows.
     */
    im = egl_readback_image_import(rb, fd, DRM_FORMAT_ABGR8888,
                                   DRM_FORMAT_MOD_LINEAR, stride / 4, count,
                                   offset, pitch, errp);
    trace_egl_readback_image_new(fd, stride, first, step, count, !!im);
    egl_current_restore(rb, &cur);
    return im;
}

bool egl_readback_image_read(EglReadback *rb, EglReadbackImage *im,
                             void *dst, Error **errp)
{
    EglCurrent cur;
    bool ret;

    if (!egl_readback_use(rb, &cur, errp)) {
        return false;
    }
    ret = egl_readback_image_pixels(im, dst, errp);
    egl_current_restore(rb, &cur);
    return ret;
}

void egl_readback_image_free(EglReadback *rb, EglReadbackImage *im)
{
    EglCurrent cur;

    if (!im || !egl_readback_use(rb, &cur, NULL)) {
        return;
    }
    egl_readback_image_destroy(rb, im);
    egl_current_restore(rb, &cur);
}

bool egl_readback_raw(EglReadback *rb, int fd, uint32_t stride,
                      uint32_t rows, void *dst, Error **errp)
{
    EglReadbackImage *im = egl_readback_image_new(rb, fd, stride, 0, 1, rows,
                                                  errp);
    bool ret;

    if (!im) {
        return false;
    }
    ret = egl_readback_image_read(rb, im, dst, errp);
    egl_readback_image_free(rb, im);
    return ret;
}

/* the pixman format of a linear buffer we read byte for byte */
static pixman_format_code_t egl_readback_pixman(uint32_t fourcc)
{
    switch (fourcc) {
    case DRM_FORMAT_XRGB8888:
        return PIXMAN_x8r8g8b8;
    case DRM_FORMAT_ARGB8888:
        return PIXMAN_a8r8g8b8;
    case DRM_FORMAT_XBGR8888:
        return PIXMAN_x8b8g8r8;
    case DRM_FORMAT_ABGR8888:
        return PIXMAN_a8b8g8r8;
    case DRM_FORMAT_RGB565:
        return PIXMAN_r5g6b5;
    case DRM_FORMAT_XRGB2101010:
        return PIXMAN_x2r10g10b10;
    case DRM_FORMAT_XBGR2101010:
        return PIXMAN_x2b10g10r10;
    default:
        return 0;
    }
}

static void egl_readback_pixman_free(pixman_image_t *image, void *data)
{
    g_free(data);
}

pixman_image_t *egl_readback_dmabuf(EglReadback *rb, QemuDmaBuf *dmabuf,
                                    Error **errp)
{
    uint32_t fourcc = qemu_dmabuf_get_fourcc(dmabuf);
    uint64_t modifier = qemu_dmabuf_get_modifier(dmabuf);
    uint32_t width = qemu_dmabuf_get_width(dmabuf);
    uint32_t height = qemu_dmabuf_get_height(dmabuf);
    uint32_t stride = qemu_dmabuf_get_stride(dmabuf);
    int fd = qemu_dmabuf_get_fd(dmabuf);
    pixman_format_code_t format = egl_readback_pixman(fourcc);
    pixman_image_t *image;
    uint32_t *bits;

    if (modifier == DRM_FORMAT_MOD_LINEAR && format &&
        (uint64_t)width * PIXMAN_FORMAT_BPP(format) / 8 <= stride &&
        !(stride % 4)) {
        /* byte for byte: exact in every format */
        bits = g_try_malloc((uint64_t)stride * height);
        if (!bits || !egl_readback_raw(rb, fd, stride, height, bits, errp)) {
            g_free(bits);
            return NULL;
        }
        image = pixman_image_create_bits(format, width, height, bits, stride);
    } else {
        /* tiled, or a format we do not decode: EGL converts to RGBA */
        bits = g_try_malloc((uint64_t)width * height * 4);
        if (!bits || !egl_readback_texels(rb, fd, fourcc, modifier, width,
                                          height, 0, stride, bits, errp)) {
            g_free(bits);
            return NULL;
        }
        image = pixman_image_create_bits(PIXMAN_x8b8g8r8, width, height,
                                         bits, width * 4);
    }
    pixman_image_set_destroy_function(image, egl_readback_pixman_free, bits);
    return image;
}

pixman_image_t *egl_readback_console(QemuConsole *con, Error **errp)
{
    static EglReadback *rb;

    if (con->scanout.kind != SCANOUT_DMABUF || !con->scanout.dmabuf) {
        error_setg(errp, "no surface");
        return NULL;
    }
    if (!rb) {
        rb = egl_readback_new(errp);
        if (!rb) {
            error_prepend(errp, "GL scanout cannot be read back: ");
            return NULL;
        }
    }
    return egl_readback_dmabuf(rb, con->scanout.dmabuf, errp);
}
