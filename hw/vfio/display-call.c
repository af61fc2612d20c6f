/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: the vendor's calls off the main loop.  A thread of
 * the device's own makes the display ABI's ioctls, one call at a time, on
 * a duplicate of the device fd; a refresh waits a few milliseconds for
 * the answer and otherwise goes on, and an answer that comes later wakes
 * the display (a bottom half).  The EDID region's writes go the same way,
 * the newest EDID replacing one not yet begun, and nobody waits for them.
 * The bottom of the vendor layer: it knows nothing of planes, buffers or
 * consoles.
 */
#include "qemu/osdep.h"
#include <sys/ioctl.h>

#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/thread.h"
#include "qemu/timer.h"
#include "vfio-display.h"
#include "trace.h"

/* an interrupted ioctl is tried again, a few times: not a device fault */
#define VFIO_DISPLAY_EINTR_TRIES 3

typedef enum VFIODisplayCallState {
    VFIO_DISPLAY_CALL_IDLE,
    VFIO_DISPLAY_CALL_QUEUED,
    VFIO_DISPLAY_CALL_RUNNING,
    VFIO_DISPLAY_CALL_DONE,
} VFIODisplayCallState;

/* one kind of call: the primary's query, the cursor's, a GET */
typedef struct VFIODisplaySlot {
    VFIODisplayCall call;
    VFIODisplayCallState state;
    uint64_t epoch;                 /* the device state it was asked in */
    uint64_t seq;                   /* queued calls run in order */
    int64_t asked_ns;
    int64_t done_ns;                /* DONE: when it answered */
} VFIODisplaySlot;

enum {
    VFIO_DISPLAY_SLOT_QUERY,        /* + 1 for the cursor plane */
    VFIO_DISPLAY_SLOT_GET = 2,      /* one GET at a time, either plane */
    VFIO_DISPLAY_SLOTS,
};

/* the EDID the thread is to write: the newest replaces one not begun */
typedef struct VFIODisplayEdidJob {
    VFIODisplayEdid edid;
    uint8_t *blob;                  /* edid's, owned */
    bool queued;
    uint64_t seq;                   /* runs in order with the queries */
    int64_t link_up_ns;             /* the link goes up then; 0: not due */
    int64_t asked_ns;
    int64_t took_ns;                /* the writes' time, to be seen; or -1 */
} VFIODisplayEdidJob;

/*
 * Shared by the main loop and the thread, under @lock.  Freed by the
 * thread once the device is @gone, never by the main loop: a call may
 * still be blocked in the vendor driver then.
 */
struct VFIODisplayCaller {
    QemuThread thread;
    QemuMutex lock;
    QemuCond work;                  /* a call queued, or gone */
    QemuCond answered;              /* for the main loop's short wait */
    int fd;                         /* the thread's own, a dup */
    char *name;
    QEMUBH *bh;                     /* an answer came, nobody waiting */
    QEMUBHFunc *notify;
    void *opaque;
    VFIODisplaySlot slots[VFIO_DISPLAY_SLOTS];
    VFIODisplayEdidJob edid;
    const char *running;            /* the call in flight, or NULL */
    int64_t running_ns;             /* since when */
    uint64_t epoch, seq;
    int64_t deadline_ns;            /* of this refresh's wait */
    bool waiting;                   /* the main loop waits for an answer */
    bool gone;
    /* main loop only */
    bool slow_warned;               /* a stall: until a call is quick */
    bool slow_told;                 /* its first answer was told */
    uint64_t slow_calls;
    int64_t longest_ns;
};

static const char *vfio_display_call_name(const VFIODisplayCall *call)
{
    if (call->kind == VFIO_DISPLAY_CALL_GET) {
        return "GET_GFX_DMABUF";
    }
    return call->type == VFIO_DISPLAY_PLANE_CURSOR ?
           "QUERY_GFX_PLANE (cursor)" : "QUERY_GFX_PLANE (primary)";
}

static int vfio_display_call_slot(const VFIODisplayCall *call)
{
    if (call->kind == VFIO_DISPLAY_CALL_GET) {
        return VFIO_DISPLAY_SLOT_GET;
    }
    return VFIO_DISPLAY_SLOT_QUERY + (call->type == VFIO_DISPLAY_PLANE_CURSOR);
}

/* the ioctl itself, on the thread */
static void vfio_display_call_run(int fd, VFIODisplayCall *call)
{
    struct vfio_device_gfx_plane_info *info = &call->info;
    uint32_t id = call->plane.id;
    int ret, tries = 0;

    do {
        if (call->kind == VFIO_DISPLAY_CALL_GET) {
            ret = ioctl(fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
        } else {
            memset(info, 0, sizeof(*info));
            info->argsz = sizeof(*info);
            info->flags = call->flags;
            info->drm_plane_type = call->type;
            ret = ioctl(fd, VFIO_DEVICE_QUERY_GFX_PLANE, info);
        }
        ret = ret < 0 ? -errno : ret;
    } while (ret == -EINTR && ++tries < VFIO_DISPLAY_EINTR_TRIES);
    call->ret = ret;
}

/* an answer nobody takes: a dma-buf it brought is closed */
static void vfio_display_call_discard(VFIODisplaySlot *s)
{
    if (s->state == VFIO_DISPLAY_CALL_DONE &&
        s->call.kind == VFIO_DISPLAY_CALL_GET && s->call.ret >= 0) {
        close(s->call.ret);
    }
    s->state = VFIO_DISPLAY_CALL_IDLE;
}

static VFIODisplaySlot *vfio_display_call_next(VFIODisplayCaller *c)
{
    VFIODisplaySlot *next = NULL;
    int i;

    for (i = 0; i < VFIO_DISPLAY_SLOTS; i++) {
        if (c->slots[i].state == VFIO_DISPLAY_CALL_QUEUED &&
            (!next || c->slots[i].seq < next->seq)) {
            next = &c->slots[i];
        }
    }
    return next;
}

static void vfio_display_caller_destroy(VFIODisplayCaller *c)
{
    int i;

    for (i = 0; i < VFIO_DISPLAY_SLOTS; i++) {
        vfio_display_call_discard(&c->slots[i]);
    }
    g_free(c->edid.blob);
    close(c->fd);
    qemu_cond_destroy(&c->answered);
    qemu_cond_destroy(&c->work);
    qemu_mutex_destroy(&c->lock);
    g_free(c->name);
    g_free(c);
}

/* the thread makes @s's call, unlocked meanwhile.  Locked. */
static void vfio_display_call_make(VFIODisplayCaller *c, VFIODisplaySlot *s)
{
    VFIODisplayCall call = s->call;

    s->state = VFIO_DISPLAY_CALL_RUNNING;
    c->running = vfio_display_call_name(&call);
    c->running_ns = s->asked_ns;
    qemu_mutex_unlock(&c->lock);
    vfio_display_call_run(c->fd, &call);
    qemu_mutex_lock(&c->lock);
    c->running = NULL;
    s->call = call;
    s->state = VFIO_DISPLAY_CALL_DONE;
    s->done_ns = get_clock();
    if (c->waiting) {
        qemu_cond_broadcast(&c->answered);
    } else if (!c->gone) {
        qemu_bh_schedule(c->bh);
    }
}

/* the thread: one register or the blob of the EDID region */
static bool vfio_display_edid_pwrite(int fd, const void *buf, size_t len,
                                     off_t pos)
{
    if (pwrite(fd, buf, len, pos) != len) {
        trace_vfio_display_edid_write_error();
        return false;
    }
    return true;
}

/* the thread: link down, then @e's EDID; true if the link is to go up */
static bool vfio_display_edid_run(int fd, const VFIODisplayEdid *e)
{
    uint32_t down = VFIO_DEVICE_GFX_LINK_STATE_DOWN;

    if (!vfio_display_edid_pwrite(fd, &down, sizeof(down), e->link_state)) {
        return false;
    }
    trace_vfio_display_edid_link_down();
    return e->blob &&
           vfio_display_edid_pwrite(fd, &e->size, sizeof(e->size),
                                    e->edid_size) &&
           vfio_display_edid_pwrite(fd, e->blob, e->size, e->blob_off);
}

/* the thread writes the EDID queued, unlocked meanwhile.  Locked. */
static void vfio_display_edid_write(VFIODisplayCaller *c)
{
    VFIODisplayEdidJob *job = &c->edid;
    VFIODisplayEdid e = job->edid;
    g_autofree uint8_t *blob = job->blob;      /* e's now */
    bool up;

    job->blob = NULL;
    job->edid.blob = NULL;
    job->queued = false;
    c->running = "the EDID region's writes";
    c->running_ns = job->asked_ns;
    qemu_mutex_unlock(&c->lock);
    up = vfio_display_edid_run(c->fd, &e);
    qemu_mutex_lock(&c->lock);
    c->running = NULL;
    job->took_ns = get_clock() - job->asked_ns;
    if (up && !job->queued) {
        /* down long enough for the guest to notice the change */
        job->link_up_ns = get_clock() +
                          VFIO_DISPLAY_EDID_LINK_DOWN_MS * SCALE_MS;
    }
}

/* the thread takes the EDID's link up, unlocked meanwhile.  Locked. */
static void vfio_display_edid_link_up(VFIODisplayCaller *c)
{
    uint32_t up = VFIO_DEVICE_GFX_LINK_STATE_UP;
    off_t pos = c->edid.edid.link_state;
    int64_t due = c->edid.link_up_ns;

    c->edid.link_up_ns = 0;
    c->running = "the EDID region's link state";
    c->running_ns = due;
    qemu_mutex_unlock(&c->lock);
    if (vfio_display_edid_pwrite(c->fd, &up, sizeof(up), pos)) {
        trace_vfio_display_edid_link_up();
    }
    qemu_mutex_lock(&c->lock);
    c->running = NULL;
    c->edid.took_ns = get_clock() - due;
}

/*
 * The thread's next piece of work, done: a link due to go up, then what
 * was asked first, an EDID or a query or GET.  Locked; false if nothing
 * is due now.
 */
static bool vfio_display_caller_work(VFIODisplayCaller *c)
{
    VFIODisplaySlot *s = vfio_display_call_next(c);
    VFIODisplayEdidJob *job = &c->edid;

    if (job->link_up_ns && get_clock() >= job->link_up_ns) {
        vfio_display_edid_link_up(c);
    } else if (job->queued && (!s || job->seq < s->seq)) {
        vfio_display_edid_write(c);
    } else if (s) {
        vfio_display_call_make(c, s);
    } else {
        return false;
    }
    return true;
}

static void *vfio_display_caller_thread(void *opaque)
{
    VFIODisplayCaller *c = opaque;
    int64_t link_up;

    qemu_mutex_lock(&c->lock);
    while (!c->gone) {
        if (vfio_display_caller_work(c)) {
            continue;
        }
        link_up = c->edid.link_up_ns;
        if (link_up) {
            qemu_cond_timedwait(&c->work, &c->lock,
                                DIV_ROUND_UP(MAX(link_up - get_clock(), 0),
                                             SCALE_MS));
        } else {
            qemu_cond_wait(&c->work, &c->lock);
        }
    }
    qemu_mutex_unlock(&c->lock);
    vfio_display_caller_destroy(c);
    return NULL;
}

/* the thread's own answer to the bottom half: wake the display */
static void vfio_display_caller_bh(void *opaque)
{
    VFIODisplayCaller *c = opaque;

    trace_vfio_display_call_late(c->name);
    c->notify(c->opaque);
}

VFIODisplayCaller *vfio_display_caller_new(const char *name, int fd,
                                           QEMUBHFunc *notify, void *opaque,
                                           Error **errp)
{
    VFIODisplayCaller *c;
    g_autofree char *thread = NULL;
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);

    if (dup < 0) {
        error_setg_errno(errp, errno, "vfio %s: display: cannot duplicate "
                         "the device fd", name);
        return NULL;
    }
    c = g_new0(VFIODisplayCaller, 1);
    c->fd = dup;
    c->name = g_strdup(name);
    c->notify = notify;
    c->opaque = opaque;
    c->edid.took_ns = -1;
    c->bh = qemu_bh_new(vfio_display_caller_bh, c);
    qemu_mutex_init(&c->lock);
    qemu_cond_init(&c->work);
    qemu_cond_init(&c->answered);
    thread = g_strdup_printf("vfio-dpy-%.6s", name);
    qemu_thread_create(&c->thread, thread, vfio_display_caller_thread, c,
                       QEMU_THREAD_DETACHED);
    return c;
}

void vfio_display_caller_free(VFIODisplayCaller *c)
{
    QEMUBH *bh;

    if (!c) {
        return;
    }
    bh = c->bh;
    qemu_mutex_lock(&c->lock);
    c->gone = true;
    qemu_cond_signal(&c->work);
    qemu_mutex_unlock(&c->lock);
    /* c is the thread's now: it may be freed already */
    qemu_bh_delete(bh);
}

void vfio_display_caller_refresh(VFIODisplayCaller *c)
{
    c->deadline_ns = get_clock() + VFIO_DISPLAY_CALL_WAIT_MS * SCALE_MS;
}

void vfio_display_caller_forget(VFIODisplayCaller *c)
{
    qemu_mutex_lock(&c->lock);
    c->epoch++;
    qemu_mutex_unlock(&c->lock);
}

/*
 * The call in flight has been for VFIO_DISPLAY_SLOW_MS since it was
 * asked: one warning, until a call answers in time again.  Locked.
 */
static void vfio_display_call_slow(VFIODisplayCaller *c, int64_t now)
{
    if (c->slow_warned || !c->running ||
        now - c->running_ns < VFIO_DISPLAY_SLOW_MS * SCALE_MS) {
        return;
    }
    c->slow_warned = true;
    warn_report("vfio %s: display: the vendor driver has not answered %s "
                "for %.1f s; the last frame stays", c->name, c->running,
                (now - c->running_ns) / (double)NANOSECONDS_PER_SECOND);
}

/*
 * A call (@what) answered @took after it was asked: a stall it ends is
 * told once; an answer within a refresh's wait ends the stall (a vendor
 * slow all the time is one stall, not a message a call).  Locked.
 */
static void vfio_display_call_took(VFIODisplayCaller *c, const char *what,
                                   int64_t took)
{
    c->longest_ns = MAX(c->longest_ns, took);
    if (took < VFIO_DISPLAY_CALL_WAIT_MS * SCALE_MS) {
        /* answered within a refresh's wait: the stall is over */
        c->slow_warned = c->slow_told = false;
    } else if (c->slow_warned && !c->slow_told) {
        c->slow_told = true;
        info_report("vfio %s: display: the vendor driver answered %s "
                    "after %.1f s", c->name, what,
                    took / (double)NANOSECONDS_PER_SECOND);
    }
}

/* the EDID's writes, if done since the main loop last looked.  Locked. */
static void vfio_display_edid_seen(VFIODisplayCaller *c)
{
    if (c->edid.took_ns >= 0) {
        vfio_display_call_took(c, "the EDID region's writes",
                               c->edid.took_ns);
        c->edid.took_ns = -1;
    }
}

/* the main loop finds answer @s, taken or dropped.  Locked. */
static void vfio_display_call_seen(VFIODisplayCaller *c, VFIODisplaySlot *s)
{
    int64_t took = s->done_ns - s->asked_ns;

    trace_vfio_display_call(c->name, vfio_display_call_name(&s->call),
                            s->call.ret, took / SCALE_US);
    vfio_display_call_took(c, vfio_display_call_name(&s->call), took);
}

/*
 * Wait for @s until the refresh's deadline; true if it answered.  Only
 * for a call this refresh asked: one a vendor has sat on since an
 * earlier refresh costs a refresh nothing.
 */
static bool vfio_display_call_wait(VFIODisplayCaller *c, VFIODisplaySlot *s)
{
    int64_t now = get_clock();

    if (s->asked_ns < c->deadline_ns - VFIO_DISPLAY_CALL_WAIT_MS * SCALE_MS) {
        vfio_display_call_slow(c, now);
        return false;
    }
    c->waiting = true;
    while (s->state != VFIO_DISPLAY_CALL_DONE && now < c->deadline_ns) {
        qemu_cond_timedwait(&c->answered, &c->lock,
                            DIV_ROUND_UP(c->deadline_ns - now, SCALE_MS));
        now = get_clock();
    }
    c->waiting = false;
    vfio_display_call_slow(c, now);
    return s->state == VFIO_DISPLAY_CALL_DONE;
}

/* an answer for a device state since changed: never shown */
static void vfio_display_call_drop(VFIODisplayCaller *c, VFIODisplaySlot *s)
{
    vfio_display_call_seen(c, s);
    trace_vfio_display_call_dropped(c->name, vfio_display_call_name(&s->call));
    vfio_display_call_discard(s);
}

/* may the answer in @s be taken for @call? */
static bool vfio_display_call_fits(VFIODisplayCaller *c,
                                   const VFIODisplaySlot *s,
                                   const VFIODisplayCall *call)
{
    if (call->kind == VFIO_DISPLAY_CALL_GET) {
        /* any GET's fd: the caller keeps it under the id it was for */
        return true;
    }
    return s->epoch == c->epoch && s->call.flags == call->flags;
}

int vfio_display_caller_ask(VFIODisplayCaller *c, VFIODisplayCall *call)
{
    VFIODisplaySlot *s = &c->slots[vfio_display_call_slot(call)];
    bool waited = false;
    int ret = -EINPROGRESS;

    qemu_mutex_lock(&c->lock);
    vfio_display_edid_seen(c);
    if (s->state == VFIO_DISPLAY_CALL_DONE && !vfio_display_call_fits(c, s,
                                                                      call)) {
        vfio_display_call_drop(c, s);
    }
    if (s->state == VFIO_DISPLAY_CALL_IDLE) {
        s->call = *call;
        s->epoch = c->epoch;
        s->seq = ++c->seq;
        s->asked_ns = get_clock();
        s->state = VFIO_DISPLAY_CALL_QUEUED;
        qemu_cond_signal(&c->work);
    }
    if (s->state != VFIO_DISPLAY_CALL_DONE) {
        waited = vfio_display_call_wait(c, s);
        if (waited && !vfio_display_call_fits(c, s, call)) {
            vfio_display_call_drop(c, s);
        }
    }
    if (s->state == VFIO_DISPLAY_CALL_DONE) {
        vfio_display_call_seen(c, s);
        /* the refresh went on without it: it was left behind */
        c->slow_calls += !waited;
        *call = s->call;
        s->state = VFIO_DISPLAY_CALL_IDLE;
        ret = 0;
    }
    qemu_mutex_unlock(&c->lock);
    return ret;
}

void vfio_display_caller_edid(VFIODisplayCaller *c, const VFIODisplayEdid *e)
{
    VFIODisplayEdidJob *job = &c->edid;

    qemu_mutex_lock(&c->lock);
    g_free(job->blob);              /* one not begun gives way */
    job->blob = e->blob ? g_memdup2(e->blob, e->size) : NULL;
    job->edid = *e;
    job->edid.blob = job->blob;
    job->queued = true;
    job->seq = ++c->seq;
    job->asked_ns = get_clock();
    job->link_up_ns = 0;            /* the new one takes the link down */
    qemu_cond_signal(&c->work);
    qemu_mutex_unlock(&c->lock);
}

void vfio_display_caller_stats(VFIODisplayCaller *c, uint64_t *slow_calls,
                               uint64_t *longest_ms)
{
    int64_t longest, now = get_clock();
    int i;

    qemu_mutex_lock(&c->lock);
    longest = c->longest_ns;
    for (i = 0; i < VFIO_DISPLAY_SLOTS; i++) {
        if (c->slots[i].state == VFIO_DISPLAY_CALL_RUNNING ||
            c->slots[i].state == VFIO_DISPLAY_CALL_QUEUED) {
            longest = MAX(longest, now - c->slots[i].asked_ns);
        }
    }
    if (c->running) {
        longest = MAX(longest, now - c->running_ns);   /* an EDID's too */
    }
    *slow_calls = c->slow_calls;
    qemu_mutex_unlock(&c->lock);
    *longest_ms = longest / SCALE_MS;
}
