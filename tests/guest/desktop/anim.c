/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-anim: the desktop guest's animation for the benchmark
 * (tests/bench/feel.py).  A fullscreen window that draws a new frame at a
 * fixed rate, the whole window each time: a gradient whose phase moves
 * with the frame, a band sweeping across it, and two 16x16 markers at
 * the top left that a client on the host reads off what it receives:
 *   at 0,0   frame n's colour, color(n) below (n counts from 1);
 *   at 16,0  color(k), k the input events seen so far (the pointer's
 *            enter and motion, buttons, keys), drawn at once, not at the
 *            next tick.
 * A tick of the rate's timer makes a frame due; it is drawn once the
 * compositor has shown the previous one (a Wayland frame callback; on X11
 * once the server has taken the image), and a tick that finds a frame
 * still due is counted as missed, not queued: each frame drawn is a frame
 * the compositor shows.  Every second a line
 *   anim: frames N missed M inputs K
 * goes to the serial console (/dev/ttyS0; stderr when run by hand).
 *
 * On Wayland (weston, $WAYLAND_DISPLAY): xdg-shell, fullscreen, wl_shm.
 * On X11 ($DISPLAY, Xorg on fbdev): an override-redirect window over the
 * root, XPutImage.  The rate is guest.anim=HZ on the kernel command line
 * (default 60), or the first argument (run by hand).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <wayland-client.h>
#include "xdg-shell-client-protocol.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>

#define MARKER 16
#define NBUF 3
/*
 * XRGB8888's X byte set: weston 10's pixman renderer shows a shm buffer's
 * pixels whose X byte is 0 as black (measured on its headless backend)
 */
#define OPAQUE 0xff000000u

static uint32_t color(uint64_t n)
{
    uint32_t c = (uint32_t)((n * 2654435761u + 0x10101) & 0xffffff);

    return c ? c : 1;
}

static struct {
    int width, height;
    uint64_t frames, missed, inputs;
    bool waiting;       /* the last frame is not shown yet */
    bool due;           /* a tick came: a frame to draw once it is */
    time_t reported;    /* the second of the last report */
    bool input_dirty;   /* an input to show now */
    FILE *log;
} st;

/* frame n into @px (XRGB8888, @stride bytes a row) */
static void draw(uint32_t *px, int stride, uint64_t n)
{
    static uint32_t *red;       /* a row's red, this frame */
    static int red_w;
    int w = st.width, h = st.height, x, y;
    int band = (int)(n * 16 % (uint64_t)w);
    uint32_t phase = (uint32_t)(n * 3);

    if (red_w != w) {
        red = realloc(red, sizeof(*red) * w);
        red_w = w;
    }
    for (x = 0; x < w; x++) {
        red[x] = x >= band && x < band + 64 ? 0xffffff :
            (((uint32_t)(x * 255 / (w > 1 ? w - 1 : 1)) + phase) & 0xff) << 16;
    }
    for (y = 0; y < h; y++) {
        uint32_t *row = (uint32_t *)((uint8_t *)px + (size_t)y * stride);
        uint32_t g = OPAQUE | (uint32_t)(y * 255 / (h > 1 ? h - 1 : 1)) << 8 |
            0x40;

        for (x = 0; x < w; x++) {
            row[x] = red[x] == 0xffffff ? OPAQUE | 0xffffff : red[x] | g;
        }
    }
    for (y = 0; y < MARKER && y < h; y++) {
        uint32_t *row = (uint32_t *)((uint8_t *)px + (size_t)y * stride);

        for (x = 0; x < MARKER && x < w; x++) {
            row[x] = OPAQUE | color(n);
            if (x + MARKER < w) {
                row[x + MARKER] = OPAQUE | color(st.inputs);
            }
        }
    }
}

/* only the input marker, over the frame already in @px */
static void draw_input(uint32_t *px, int stride)
{
    int x, y;

    for (y = 0; y < MARKER && y < st.height; y++) {
        uint32_t *row = (uint32_t *)((uint8_t *)px + (size_t)y * stride);

        for (x = MARKER; x < 2 * MARKER && x < st.width; x++) {
            row[x] = OPAQUE | color(st.inputs);
        }
    }
}

/* the counters on the log, at most once a second */
static void report(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec <= st.reported) {
        return;
    }
    st.reported = now.tv_sec;
    fprintf(st.log, "anim: frames %llu missed %llu inputs %llu\n",
            (unsigned long long)st.frames, (unsigned long long)st.missed,
            (unsigned long long)st.inputs);
    fflush(st.log);
}

static int start_timer(int hz)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec it = { 0 };
    long ns = 1000000000L / hz;

    it.it_interval.tv_sec = ns / 1000000000L;
    it.it_interval.tv_nsec = ns % 1000000000L;
    it.it_value = it.it_interval;
    if (fd < 0 || timerfd_settime(fd, 0, &it, NULL) < 0) {
        perror("anim: timerfd");
        exit(1);
    }
    return fd;
}

/* what the loop polls: the display's connection @conn, the rate's timer */
static void poll_setup(struct pollfd fds[2], int conn, int hz)
{
    struct timespec now;

    fds[0].fd = conn;
    fds[0].events = POLLIN;
    fds[1].fd = start_timer(hz);
    fds[1].events = POLLIN;
    clock_gettime(CLOCK_MONOTONIC, &now);
    st.reported = now.tv_sec;
}

/* ticks since the last read (0 if none) */
static uint64_t ticks(int fd)
{
    uint64_t n = 0;

    if (read(fd, &n, sizeof(n)) != sizeof(n)) {
        return 0;
    }
    return n;
}

/* ---- Wayland ---- */

static struct {
    struct wl_display *dpy;
    struct wl_compositor *comp;
    struct wl_shm *shm;
    struct wl_seat *seat;
    struct xdg_wm_base *wm;
    struct wl_surface *surf;
    struct xdg_surface *xsurf;
    struct xdg_toplevel *top;
    struct wl_buffer *buf[NBUF];
    uint32_t *px[NBUF];
    bool busy[NBUF];
    int cur;            /* the buffer last committed */
    bool configured;
} wl;

static void buffer_release(void *data, struct wl_buffer *b)
{
    wl.busy[(intptr_t)data] = false;
}

static const struct wl_buffer_listener buffer_listener = {
    .release = buffer_release,
};

static void make_buffers(void)
{
    int stride = st.width * 4, i;
    size_t size = (size_t)stride * st.height;
    int fd = memfd_create("vfio-anim", MFD_CLOEXEC);
    struct wl_shm_pool *pool;
    uint8_t *mem;

    if (fd < 0 || ftruncate(fd, (off_t)(size * NBUF)) < 0) {
        perror("anim: memfd");
        exit(1);
    }
    mem = mmap(NULL, size * NBUF, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED) {
        perror("anim: mmap");
        exit(1);
    }
    pool = wl_shm_create_pool(wl.shm, fd, (int32_t)(size * NBUF));
    for (i = 0; i < NBUF; i++) {
        wl.px[i] = (uint32_t *)(mem + size * i);
        wl.buf[i] = wl_shm_pool_create_buffer(pool, (int32_t)(size * i),
                                              st.width, st.height, stride,
                                              WL_SHM_FORMAT_XRGB8888);
        wl_buffer_add_listener(wl.buf[i], &buffer_listener,
                               (void *)(intptr_t)i);
    }
    wl_shm_pool_destroy(pool);
    close(fd);
}

static void frame_done(void *data, struct wl_callback *cb, uint32_t t);

static const struct wl_callback_listener frame_listener = {
    .done = frame_done,
};

static void frame_done(void *data, struct wl_callback *cb, uint32_t t)
{
    wl_callback_destroy(cb);
    st.waiting = false;
}

static void wl_commit(int i)
{
    struct wl_callback *cb;

    wl_surface_attach(wl.surf, wl.buf[i], 0, 0);
    wl_surface_damage_buffer(wl.surf, 0, 0, st.width, st.height);
    cb = wl_surface_frame(wl.surf);
    wl_callback_add_listener(cb, &frame_listener, NULL);
    wl_surface_commit(wl.surf);
    wl.busy[i] = true;
    wl.cur = i;
    st.waiting = true;
}

/* a new frame in a free buffer; false if none is free */
static bool wl_frame(void)
{
    int i = (wl.cur + 1) % NBUF;

    if (wl.busy[i]) {
        return false;
    }
    st.frames++;
    draw(wl.px[i], st.width * 4, st.frames);
    wl_commit(i);
    return true;
}

/* the input marker now: the last frame again with it */
static void wl_input(void)
{
    int i = (wl.cur + 1) % NBUF;

    if (wl.busy[i] || st.frames == 0) {
        return;         /* shown with the next frame */
    }
    memcpy(wl.px[i], wl.px[wl.cur], (size_t)st.width * 4 * st.height);
    draw_input(wl.px[i], st.width * 4);
    wl_commit(i);
    st.input_dirty = false;
}

static void xdg_ping(void *data, struct xdg_wm_base *wm, uint32_t serial)
{
    xdg_wm_base_pong(wm, serial);
}

static const struct xdg_wm_base_listener wm_listener = {
    .ping = xdg_ping,
};

static void xsurf_configure(void *data, struct xdg_surface *s, uint32_t ser)
{
    xdg_surface_ack_configure(s, ser);
    wl.configured = true;
}

static const struct xdg_surface_listener xsurf_listener = {
    .configure = xsurf_configure,
};

static void top_configure(void *data, struct xdg_toplevel *t, int32_t w,
                          int32_t h, struct wl_array *states)
{
    if (w > 0 && h > 0 && !wl.buf[0]) {
        st.width = w;
        st.height = h;
    }
}

static void top_close(void *data, struct xdg_toplevel *t)
{
}

static const struct xdg_toplevel_listener top_listener = {
    .configure = top_configure,
    .close = top_close,
};

static void input_seen(void)
{
    st.inputs++;
    st.input_dirty = true;
}

static void p_enter(void *d, struct wl_pointer *p, uint32_t s,
                    struct wl_surface *su, wl_fixed_t x, wl_fixed_t y)
{
    /* no cursor: the frame is the guest's whole picture */
    wl_pointer_set_cursor(p, s, NULL, 0, 0);
    input_seen();       /* the pointer's first move brings it here */
}

static void p_leave(void *d, struct wl_pointer *p, uint32_t s,
                    struct wl_surface *su)
{
}

static void p_motion(void *d, struct wl_pointer *p, uint32_t t,
                     wl_fixed_t x, wl_fixed_t y)
{
    input_seen();
}

static void p_button(void *d, struct wl_pointer *p, uint32_t s, uint32_t t,
                     uint32_t b, uint32_t state)
{
    input_seen();
}

static void p_axis(void *d, struct wl_pointer *p, uint32_t t, uint32_t a,
                   wl_fixed_t v)
{
}

static const struct wl_pointer_listener pointer_listener = {
    .enter = p_enter, .leave = p_leave, .motion = p_motion,
    .button = p_button, .axis = p_axis,
};

static void k_keymap(void *d, struct wl_keyboard *k, uint32_t f, int fd,
                     uint32_t sz)
{
    close(fd);
}

static void k_enter(void *d, struct wl_keyboard *k, uint32_t s,
                    struct wl_surface *su, struct wl_array *keys)
{
}

static void k_leave(void *d, struct wl_keyboard *k, uint32_t s,
                    struct wl_surface *su)
{
}

static void k_key(void *d, struct wl_keyboard *k, uint32_t s, uint32_t t,
                  uint32_t key, uint32_t state)
{
    if (state == WL_KEYBOARD_KEY_STATE_PRESSED) {
        input_seen();
    }
}

static void k_mods(void *d, struct wl_keyboard *k, uint32_t s, uint32_t a,
                   uint32_t b, uint32_t c, uint32_t g)
{
}

static void k_repeat(void *d, struct wl_keyboard *k, int32_t r, int32_t dl)
{
}

static const struct wl_keyboard_listener keyboard_listener = {
    .keymap = k_keymap, .enter = k_enter, .leave = k_leave, .key = k_key,
    .modifiers = k_mods, .repeat_info = k_repeat,
};

static void seat_caps(void *data, struct wl_seat *seat, uint32_t caps)
{
    static bool pointer, keyboard;

    if ((caps & WL_SEAT_CAPABILITY_POINTER) && !pointer) {
        wl_pointer_add_listener(wl_seat_get_pointer(seat), &pointer_listener,
                                NULL);
        pointer = true;
    }
    if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) && !keyboard) {
        wl_keyboard_add_listener(wl_seat_get_keyboard(seat),
                                 &keyboard_listener, NULL);
        keyboard = true;
    }
}

static void seat_name(void *data, struct wl_seat *seat, const char *name)
{
}

static const struct wl_seat_listener seat_listener = {
    .capabilities = seat_caps, .name = seat_name,
};

static void global(void *data, struct wl_registry *reg, uint32_t name,
                   const char *iface, uint32_t version)
{
    if (!strcmp(iface, wl_compositor_interface.name)) {
        wl.comp = wl_registry_bind(reg, name, &wl_compositor_interface, 4);
    } else if (!strcmp(iface, wl_shm_interface.name)) {
        wl.shm = wl_registry_bind(reg, name, &wl_shm_interface, 1);
    } else if (!strcmp(iface, xdg_wm_base_interface.name)) {
        wl.wm = wl_registry_bind(reg, name, &xdg_wm_base_interface, 1);
        xdg_wm_base_add_listener(wl.wm, &wm_listener, NULL);
    } else if (!strcmp(iface, wl_seat_interface.name) && !wl.seat) {
        /* version 3: the pointer events the listener has (frame and
         * axis_source come with 5) */
        wl.seat = wl_registry_bind(reg, name, &wl_seat_interface,
                                   version < 3 ? version : 3);
        wl_seat_add_listener(wl.seat, &seat_listener, NULL);
    }
}

static void global_remove(void *data, struct wl_registry *reg, uint32_t n)
{
}

static const struct wl_registry_listener registry_listener = {
    .global = global, .global_remove = global_remove,
};

static int run_wayland(int hz)
{
    struct pollfd fds[2];

    wl.dpy = wl_display_connect(NULL);
    if (!wl.dpy) {
        return -1;
    }
    wl_registry_add_listener(wl_display_get_registry(wl.dpy),
                             &registry_listener, NULL);
    wl_display_roundtrip(wl.dpy);
    if (!wl.comp || !wl.shm || !wl.wm) {
        fprintf(stderr, "anim: the compositor lacks wl_shm or xdg-shell\n");
        exit(1);
    }
    wl.surf = wl_compositor_create_surface(wl.comp);
    wl.xsurf = xdg_wm_base_get_xdg_surface(wl.wm, wl.surf);
    xdg_surface_add_listener(wl.xsurf, &xsurf_listener, NULL);
    wl.top = xdg_surface_get_toplevel(wl.xsurf);
    xdg_toplevel_add_listener(wl.top, &top_listener, NULL);
    xdg_toplevel_set_title(wl.top, "vfio-anim");
    xdg_toplevel_set_fullscreen(wl.top, NULL);
    wl_surface_commit(wl.surf);
    while (!wl.configured) {
        if (wl_display_dispatch(wl.dpy) < 0) {
            exit(1);
        }
    }
    if (st.width <= 0 || st.height <= 0) {
        st.width = 1024;
        st.height = 768;
    }
    make_buffers();
    wl_frame();

    poll_setup(fds, wl_display_get_fd(wl.dpy), hz);
    for (;;) {
        uint64_t n;

        while (wl_display_prepare_read(wl.dpy) != 0) {
            wl_display_dispatch_pending(wl.dpy);
        }
        wl_display_flush(wl.dpy);
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            return 1;
        }
        if (fds[0].revents & POLLIN) {
            wl_display_read_events(wl.dpy);
        } else {
            wl_display_cancel_read(wl.dpy);
        }
        if (wl_display_dispatch_pending(wl.dpy) < 0) {
            return 1;
        }
        n = (fds[1].revents & POLLIN) ? ticks(fds[1].fd) : 0;
        if (n) {
            /* a tick makes a frame due; one that comes while a frame is
             * still due is missed */
            st.missed += n - !st.due;
            st.due = true;
        }
        if (st.due && !st.waiting && wl_frame()) {
            st.due = false;
            st.input_dirty = false;
        }
        if (st.input_dirty && !st.waiting) {
            wl_input();
        }
        report();
    }
}

/* ---- X11 ---- */

static int run_x11(int hz)
{
    Display *dpy = XOpenDisplay(NULL);
    XSetWindowAttributes attr = { 0 };
    struct pollfd fds[2];
    XImage *img;
    Window win;
    GC gc;
    int scr;

    if (!dpy) {
        return -1;
    }
    scr = DefaultScreen(dpy);
    st.width = DisplayWidth(dpy, scr);
    st.height = DisplayHeight(dpy, scr);
    if (DefaultDepth(dpy, scr) < 24) {
        fprintf(stderr, "anim: depth %d; 24 or 32 wanted\n",
                DefaultDepth(dpy, scr));
        exit(1);
    }
    attr.override_redirect = True;
    attr.event_mask = PointerMotionMask | ButtonPressMask | KeyPressMask;
    win = XCreateWindow(dpy, RootWindow(dpy, scr), 0, 0, st.width,
                        st.height, 0, CopyFromParent, InputOutput,
                        CopyFromParent, CWOverrideRedirect | CWEventMask,
                        &attr);
    XMapRaised(dpy, win);
    XSetInputFocus(dpy, win, RevertToParent, CurrentTime);
    gc = XCreateGC(dpy, win, 0, NULL);
    img = XCreateImage(dpy, DefaultVisual(dpy, scr), DefaultDepth(dpy, scr),
                       ZPixmap, 0, malloc((size_t)st.width * 4 * st.height),
                       st.width, st.height, 32, st.width * 4);

    poll_setup(fds, ConnectionNumber(dpy), hz);
    for (;;) {
        uint64_t n;

        XFlush(dpy);
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            return 1;
        }
        while (XPending(dpy)) {
            XEvent ev;

            XNextEvent(dpy, &ev);
            if (ev.type == MotionNotify || ev.type == ButtonPress ||
                ev.type == KeyPress) {
                input_seen();
            }
        }
        n = (fds[1].revents & POLLIN) ? ticks(fds[1].fd) : 0;
        if (n) {
            st.missed += n - 1;
            st.frames++;
            draw((uint32_t *)img->data, st.width * 4, st.frames);
            XPutImage(dpy, win, gc, img, 0, 0, 0, 0, st.width, st.height);
            /* the server has taken it once it answers */
            XSync(dpy, False);
            st.input_dirty = false;
        } else if (st.input_dirty && st.frames) {
            draw_input((uint32_t *)img->data, st.width * 4);
            XPutImage(dpy, win, gc, img, MARKER, 0, MARKER, 0, MARKER,
                      MARKER);
            XSync(dpy, False);
            st.input_dirty = false;
        }
        report();
    }
}

static int rate(int argc, char **argv)
{
    char line[4096];
    char *p;
    FILE *f;
    int hz = 60;

    if (argc > 1) {
        return atoi(argv[1]);
    }
    f = fopen("/proc/cmdline", "r");
    if (f && fgets(line, sizeof(line), f)) {
        p = strstr(line, "guest.anim=");
        if (p) {
            hz = atoi(p + strlen("guest.anim="));
        }
    }
    if (f) {
        fclose(f);
    }
    return hz;
}

int main(int argc, char **argv)
{
    int hz = rate(argc, argv);
    int r;

    if (hz < 1 || hz > 240) {
        fprintf(stderr, "anim: rate %d Hz: 1 to 240\n", hz);
        return 2;
    }
    /* run by hand (a rate given): stderr; in the guest: the console */
    st.log = argc > 1 ? NULL : fopen("/dev/ttyS0", "w");
    if (!st.log) {
        st.log = stderr;
    }
    fprintf(st.log, "anim: %d Hz on %s\n", hz,
            getenv("WAYLAND_DISPLAY") ? "Wayland" : "X11");
    fflush(st.log);
    r = getenv("WAYLAND_DISPLAY") ? run_wayland(hz) : run_x11(hz);
    if (r < 0) {
        fprintf(stderr, "anim: no display to connect to\n");
        return 1;
    }
    return r;
}
