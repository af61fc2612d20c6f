/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spice-probe: a small SPICE client (spice-client-glib) that reports what
 * a display sends, for the display tests.
 *
 *   spice-probe URI [X,Y]
 *
 * URI is spice://host?port=N or spice+unix:///path.  Events go to stdout,
 * one line each:
 *   scanout W H STRIDE FOURCC Y0TOP    a gl=on scanout (a dma-buf fd)
 *   scanout none                       the scanout went away
 *   cursor-set W H HOT_X HOT_Y         a cursor shape
 *   cursor-move X Y                    the pointer moved (hotspot position)
 *   cursor-hide
 *   probe US PIXEL                     2D: the pixel at X,Y changed, at
 *                                      CLOCK_MONOTONIC microseconds US
 *   error TEXT
 * Commands come from stdin, one line each; EOF quits:
 *   dump PATH         at the next gl-draw, write the scanout's pixels,
 *                     mapped from the fd, as a PPM; then "dumped PATH"
 *   cursor PATH       write the last cursor shape as raw RGBA; "cursored"
 *   draws             "draws N": gl-draw messages received so far
 *   stats             "stats INVALIDATES BYTES": 2D updates received and
 *                     bytes read on the display channel
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <spice-client.h>

static GMainLoop *loop;
static char *dump_path;
static guint64 draws;
static struct {
    const guint8 *data;         /* the 2D primary surface */
    int width, height, stride;
    int x, y;                   /* the probe pixel; -1: none */
    guint32 last;
    guint64 invalidates;
    SpiceChannel *channel;
} primary = { .x = -1 };
static struct {
    int width, height;
    guint8 *rgba;
} shape;

/* 'XR24', 'AR24' (B G R x) and 'XB24', 'AB24' (R G B x) */
static bool fourcc_order(guint32 fourcc, int *r, int *b)
{
    switch (fourcc) {
    case 0x34325258: case 0x34325241:
        *r = 2;
        *b = 0;
        return true;
    case 0x34324258: case 0x34324241:
        *r = 0;
        *b = 2;
        return true;
    }
    return false;
}

static void dump_scanout(SpiceDisplayChannel *display, const char *path)
{
    const SpiceGlScanout *so = spice_display_channel_get_gl_scanout(display);
    size_t len;
    guint8 *map;
    FILE *f;
    int r, b;
    guint32 x, y;

    if (!so || so->fd < 0) {
        printf("error no scanout\n");
        return;
    }
    if (!fourcc_order(so->format, &r, &b)) {
        printf("error fourcc 0x%x\n", so->format);
        return;
    }
    len = (size_t)so->stride * so->height;
    map = mmap(NULL, len, PROT_READ, MAP_SHARED, so->fd, 0);
    if (map == MAP_FAILED) {
        printf("error mmap %s\n", strerror(errno));
        return;
    }
    f = fopen(path, "wb");
    if (!f) {
        printf("error %s: %s\n", path, strerror(errno));
        munmap(map, len);
        return;
    }
    fprintf(f, "P6\n%u %u\n255\n", so->width, so->height);
    for (y = 0; y < so->height; y++) {
        /* y0top is in GL terms: set, the first row in memory is the bottom */
        guint32 row = so->y0top ? so->height - 1 - y : y;
        const guint8 *p = map + (size_t)row * so->stride;

        for (x = 0; x < so->width; x++, p += 4) {
            guint8 px[3] = { p[r], p[1], p[b] };

            fwrite(px, 1, 3, f);
        }
    }
    fclose(f);
    munmap(map, len);
    printf("dumped %s\n", path);
}

static void gl_draw(SpiceDisplayChannel *display, guint x, guint y,
                    guint w, guint h, gpointer data)
{
    draws++;
    if (dump_path) {
        dump_scanout(display, dump_path);
        g_clear_pointer(&dump_path, g_free);
    }
    spice_display_channel_gl_draw_done(display);
}

static void scanout_changed(GObject *obj, GParamSpec *pspec, gpointer data)
{
    const SpiceGlScanout *so =
        spice_display_channel_get_gl_scanout(SPICE_DISPLAY_CHANNEL(obj));

    if (!so || so->fd < 0) {
        printf("scanout none\n");
        return;
    }
    printf("scanout %u %u %u 0x%x %d\n", so->width, so->height, so->stride,
           so->format, so->y0top);
}

static void primary_create(SpiceChannel *channel, gint format, gint width,
                           gint height, gint stride, gint shmid,
                           gpointer imgdata, gpointer data)
{
    primary.data = imgdata;
    primary.width = width;
    primary.height = height;
    primary.stride = stride;
}

static void primary_destroy(SpiceChannel *channel, gpointer data)
{
    primary.data = NULL;
}

/* a 2D update: the probe pixel, when it changed, with the time */
static void invalidate(SpiceChannel *channel, gint x, gint y, gint w,
                       gint h, gpointer data)
{
    guint32 px;

    primary.invalidates++;
    if (!primary.data || primary.x < x || primary.x >= x + w ||
        primary.y < y || primary.y >= y + h ||
        primary.x >= primary.width || primary.y >= primary.height) {
        return;
    }
    memcpy(&px, primary.data + (gsize)primary.y * primary.stride +
           primary.x * 4, 4);
    px &= 0xffffff;
    if (px != primary.last) {
        primary.last = px;
        printf("probe %" G_GINT64_FORMAT " 0x%06x\n", g_get_monotonic_time(),
               px);
    }
}

static void cursor_set(SpiceCursorChannel *cursor, gint width, gint height,
                       gint hot_x, gint hot_y, gpointer rgba, gpointer data)
{
    g_free(shape.rgba);
    shape.rgba = rgba ? g_memdup2(rgba, (gsize)width * height * 4) : NULL;
    shape.width = width;
    shape.height = height;
    printf("cursor-set %d %d %d %d\n", width, height, hot_x, hot_y);
}

static void cursor_move(SpiceCursorChannel *cursor, gint x, gint y,
                        gpointer data)
{
    printf("cursor-move %d %d\n", x, y);
}

static void cursor_hide(SpiceCursorChannel *cursor, gpointer data)
{
    printf("cursor-hide\n");
}

static void channel_event(SpiceChannel *channel, SpiceChannelEvent event,
                          gpointer data)
{
    if (event != SPICE_CHANNEL_OPENED && event != SPICE_CHANNEL_SWITCHING) {
        printf("error channel event %d\n", event);
        g_main_loop_quit(loop);
    }
}

static void channel_new(SpiceSession *session, SpiceChannel *channel,
                        gpointer data)
{
    g_signal_connect(channel, "channel-event", G_CALLBACK(channel_event),
                     NULL);
    if (SPICE_IS_DISPLAY_CHANNEL(channel)) {
        g_signal_connect(channel, "gl-draw", G_CALLBACK(gl_draw), NULL);
        g_signal_connect(channel, "notify::gl-scanout",
                         G_CALLBACK(scanout_changed), NULL);
        g_signal_connect(channel, "display-primary-create",
                         G_CALLBACK(primary_create), NULL);
        g_signal_connect(channel, "display-primary-destroy",
                         G_CALLBACK(primary_destroy), NULL);
        g_signal_connect(channel, "display-invalidate",
                         G_CALLBACK(invalidate), NULL);
        primary.channel = channel;
    } else if (SPICE_IS_CURSOR_CHANNEL(channel)) {
        g_signal_connect(channel, "cursor-set", G_CALLBACK(cursor_set), NULL);
        g_signal_connect(channel, "cursor-move", G_CALLBACK(cursor_move),
                         NULL);
        g_signal_connect(channel, "cursor-hide", G_CALLBACK(cursor_hide),
                         NULL);
    } else {
        return;
    }
    spice_channel_connect(channel);
}

static void write_cursor(const char *path)
{
    FILE *f = fopen(path, "wb");

    if (!f || !shape.rgba) {
        printf("error no cursor to write\n");
        if (f) {
            fclose(f);
        }
        return;
    }
    fwrite(shape.rgba, 4, (size_t)shape.width * shape.height, f);
    fclose(f);
    printf("cursored\n");
}

static gboolean command(GIOChannel *in, GIOCondition cond, gpointer data)
{
    g_autofree char *line = NULL;
    gsize end;

    if (g_io_channel_read_line(in, &line, NULL, &end, NULL) !=
        G_IO_STATUS_NORMAL) {
        g_main_loop_quit(loop);
        return G_SOURCE_REMOVE;
    }
    line[end] = '\0';
    if (g_str_has_prefix(line, "dump ")) {
        g_free(dump_path);
        dump_path = g_strdup(line + 5);
    } else if (g_str_has_prefix(line, "cursor ")) {
        write_cursor(line + 7);
    } else if (!strcmp(line, "stats")) {
        gsize bytes = 0;

        if (primary.channel) {
            g_object_get(primary.channel, "total-read-bytes", &bytes, NULL);
        }
        printf("stats %" G_GUINT64_FORMAT " %" G_GSIZE_FORMAT "\n",
               primary.invalidates, bytes);
    } else if (!strcmp(line, "draws")) {
        printf("draws %" G_GUINT64_FORMAT "\n", draws);
    } else {
        printf("error unknown command '%s'\n", line);
    }
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    SpiceSession *session;
    GIOChannel *in;

    if ((argc != 2 && argc != 3) ||
        (argc == 3 && sscanf(argv[2], "%d,%d", &primary.x, &primary.y) != 2)) {
        fprintf(stderr, "usage: spice-probe URI [X,Y]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    loop = g_main_loop_new(NULL, FALSE);
    session = spice_session_new();
    g_object_set(session, "uri", argv[1], NULL);
    g_signal_connect(session, "channel-new", G_CALLBACK(channel_new), NULL);
    in = g_io_channel_unix_new(STDIN_FILENO);
    g_io_add_watch(in, G_IO_IN | G_IO_HUP, command, NULL);
    if (!spice_session_connect(session)) {
        printf("error cannot connect to %s\n", argv[1]);
        return 1;
    }
    g_main_loop_run(loop);
    spice_session_disconnect(session);
    g_object_unref(session);
    g_io_channel_unref(in);
    return 0;
}
