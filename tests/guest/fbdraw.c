/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fbdraw: what the vfio-display test guest draws into /dev/fb0 (the
 * framebuffer the guest's own display driver, bochs-drm or mdpy-fb, made).
 *
 *   fbdraw pattern     the xy test pattern over the visible screen, with the
 *                      console switched to graphics so fbcon leaves it alone
 *   fbdraw square N    a square moving along the bottom of the screen and a
 *                      frame counter on the console, N frames (0: forever)
 *
 * The xy pattern is the simulator's (tests/vfio-sim/README.md): at (x, y)
 * R = x mod 256, G = y mod 256, B = (x / 256 * 16 + y / 256) mod 256.
 * Built static on the host; it runs as the guest's only program besides
 * busybox.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/fb.h>
#include <linux/kd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

typedef struct Fb {
    struct fb_var_screeninfo var;
    struct fb_fix_screeninfo fix;
    uint8_t *mem;
    size_t len;
    int fd;
} Fb;

static uint32_t channel(const struct fb_bitfield *f, uint32_t v8)
{
    uint32_t v = f->length >= 8 ? v8 << (f->length - 8) :
                 v8 >> (8 - f->length);

    return v << f->offset;
}

static uint32_t pack(const Fb *fb, uint32_t rgb)
{
    return channel(&fb->var.red, rgb >> 16 & 0xff) |
           channel(&fb->var.green, rgb >> 8 & 0xff) |
           channel(&fb->var.blue, rgb & 0xff);
}

static void put(Fb *fb, uint32_t x, uint32_t y, uint32_t rgb)
{
    uint32_t bpp = fb->var.bits_per_pixel / 8, px = pack(fb, rgb);

    memcpy(fb->mem + (size_t)y * fb->fix.line_length + x * bpp, &px, bpp);
}

static void rect(Fb *fb, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h,
                 uint32_t rgb)
{
    uint32_t x, y;

    for (y = y0; y < y0 + h && y < fb->var.yres; y++) {
        for (x = x0; x < x0 + w && x < fb->var.xres; x++) {
            put(fb, x, y, rgb);
        }
    }
}

static int fb_open(Fb *fb)
{
    fb->fd = open("/dev/fb0", O_RDWR);
    if (fb->fd < 0 ||
        ioctl(fb->fd, FBIOGET_VSCREENINFO, &fb->var) < 0 ||
        ioctl(fb->fd, FBIOGET_FSCREENINFO, &fb->fix) < 0) {
        perror("fbdraw: /dev/fb0");
        return -1;
    }
    if (fb->var.bits_per_pixel != 16 && fb->var.bits_per_pixel != 32) {
        fprintf(stderr, "fbdraw: %u bits per pixel not supported\n",
                fb->var.bits_per_pixel);
        return -1;
    }
    fb->len = (size_t)fb->fix.line_length * fb->var.yres_virtual;
    fb->mem = mmap(NULL, fb->len, PROT_READ | PROT_WRITE, MAP_SHARED,
                   fb->fd, 0);
    if (fb->mem == MAP_FAILED) {
        perror("fbdraw: mmap");
        return -1;
    }
    return 0;
}

/* push the pixels out now where fbdev defers them (DRM's shadow buffer) */
static void flush(Fb *fb)
{
    fsync(fb->fd);
}

static int draw_pattern(Fb *fb)
{
    uint32_t x, y;
    int tty = open("/dev/tty0", O_RDWR);

    if (tty < 0 || ioctl(tty, KDSETMODE, KD_GRAPHICS) < 0) {
        perror("fbdraw: KD_GRAPHICS");
    }
    for (y = 0; y < fb->var.yres; y++) {
        for (x = 0; x < fb->var.xres; x++) {
            put(fb, x, y, (x & 0xff) << 16 | (y & 0xff) << 8 |
                          (((x >> 8) << 4 | (y >> 8)) & 0xff));
        }
    }
    flush(fb);
    printf("fbdraw: pattern %ux%u stride %u bpp %u\n", fb->var.xres,
           fb->var.yres, fb->fix.line_length, fb->var.bits_per_pixel);
    return 0;
}

static int draw_square(Fb *fb, unsigned long frames)
{
    const uint32_t side = 48, band = side + 16;
    struct timespec tick = { 0, 40 * 1000 * 1000 };
    uint32_t x = 0, span, y;
    unsigned long n;
    FILE *tty = fopen("/dev/tty0", "w");

    if (fb->var.xres <= side || fb->var.yres <= band) {
        fprintf(stderr, "fbdraw: %ux%u is too small\n", fb->var.xres,
                fb->var.yres);
        return -1;
    }
    span = fb->var.xres - side;
    y = fb->var.yres - band + 8;
    rect(fb, 0, fb->var.yres - band, fb->var.xres, band, 0x202020);
    for (n = 0; !frames || n < frames; n++) {
        rect(fb, x, y, side, side, 0x202020);
        x = n % (2 * span);
        x = x < span ? x : 2 * span - x;
        rect(fb, x, y, side, side, 0xff8000);
        flush(fb);
        if (tty && n % 25 == 0) {
            fprintf(tty, "\rframe %lu ", n);
            fflush(tty);
        }
        nanosleep(&tick, NULL);
    }
    return 0;
}

int main(int argc, char **argv)
{
    Fb fb;

    if (argc < 2 || fb_open(&fb) < 0) {
        fprintf(stderr, "usage: fbdraw pattern | fbdraw square FRAMES\n");
        return 1;
    }
    if (!strcmp(argv[1], "pattern")) {
        return draw_pattern(&fb) < 0;
    }
    if (!strcmp(argv[1], "square")) {
        return draw_square(&fb, argc > 2 ? strtoul(argv[2], NULL, 0) : 0) < 0;
    }
    fprintf(stderr, "fbdraw: unknown mode '%s'\n", argv[1]);
    return 1;
}
