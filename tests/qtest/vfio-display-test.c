/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * qtests of the vfio-display build: the binary answers QMP, carries
 * Debian's device set and our package version, and vfio-pci fails cleanly
 * on a host device that does not exist.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"

#define MISSING_MDEV \
    "/sys/bus/mdev/devices/00000000-0000-0000-0000-00000000dead"

/* The binary answers QMP and reports the Debian source version it came from */
static void test_build_qmp(void)
{
    QTestState *qts = qtest_init("-M q35 -nodefaults");
    QDict *rsp, *ret;
    const char *package;

    rsp = qtest_qmp(qts, "{ 'execute': 'query-status' }");
    ret = qdict_get_qdict(rsp, "return");
    g_assert(ret);
    g_assert_cmpstr(qdict_get_str(ret, "status"), ==, "running");
    qobject_unref(rsp);

    rsp = qtest_qmp(qts, "{ 'execute': 'query-version' }");
    ret = qdict_get_qdict(rsp, "return");
    g_assert(ret);
    package = qdict_get_str(ret, "package");
    g_test_message("package: %s", package);
    g_assert(g_str_has_prefix(package, "Debian 1:10.0."));
    g_assert(strstr(package, "vfio-display overlay"));
    g_assert_cmpint(qdict_get_int(qdict_get_qdict(ret, "qemu"), "major"),
                    ==, 10);
    g_assert_cmpint(qdict_get_int(qdict_get_qdict(ret, "qemu"), "minor"),
                    ==, 0);
    qobject_unref(rsp);

    qtest_quit(qts);
}

static bool has_type(QList *types, const char *name)
{
    const QListEntry *e;

    QLIST_FOREACH_ENTRY(types, e) {
        QDict *t = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(t, "name"), name)) {
            return true;
        }
    }
    return false;
}

/*
 * Debian's default x86_64 devices (scripts/configure.sh): ours for the
 * display and a desktop VM's are in the binary; another target's (an ARM
 * UART) and rutabaga's (not in Debian's build) are not.
 */
static void test_build_devices(void)
{
    static const char *const present[] = {
        "vfio-pci", "vfio-pci-nohotplug", "ramfb", "pcie-root-port",
        "e1000", "VGA", "virtio-gpu-pci", "usb-tablet", "qxl-vga",
    };
    static const char *const absent[] = {
        "pl011", "virtio-gpu-rutabaga-pci",
    };
    QTestState *qts = qtest_init("-M q35 -nodefaults");
    QDict *rsp;
    QList *types;
    size_t i;

    rsp = qtest_qmp(qts, "{ 'execute': 'qom-list-types',"
                    " 'arguments': { 'implements': 'device' } }");
    types = qdict_get_qlist(rsp, "return");
    g_assert(types);
    for (i = 0; i < ARRAY_SIZE(present); i++) {
        g_test_message("expect %s", present[i]);
        g_assert(has_type(types, present[i]));
    }
    for (i = 0; i < ARRAY_SIZE(absent); i++) {
        g_test_message("expect no %s", absent[i]);
        g_assert(!has_type(types, absent[i]));
    }
    qobject_unref(rsp);
    qtest_quit(qts);
}

/* device_add of vfio-pci on a missing sysfsdev: an error, QEMU lives on */
static void test_realize_missing_hotplug(gconstpointer data)
{
    const char *driver = data;
    QTestState *qts = qtest_init("-M q35 -nodefaults "
                                 "-device pcie-root-port,id=rp0");
    QDict *rsp, *err;
    const char *desc;

    rsp = qtest_qmp(qts, "{ 'execute': 'device_add', 'arguments': {"
                    " 'driver': %s, 'id': 'gpu0', 'bus': 'rp0',"
                    " 'sysfsdev': %s, 'display': 'on' } }",
                    driver, MISSING_MDEV);
    err = qdict_get_qdict(rsp, "error");
    g_assert(err);
    desc = qdict_get_str(err, "desc");
    g_test_message("device_add: %s", desc);
    g_assert_cmpstr(qdict_get_str(err, "class"), ==, "GenericError");
    g_assert(strstr(desc, MISSING_MDEV));
    g_assert(strstr(desc, "no such host device"));
    qobject_unref(rsp);

    /* the failed device is gone and the VM still answers */
    rsp = qtest_qmp(qts, "{ 'execute': 'qom-get', 'arguments': {"
                    " 'path': '/machine/peripheral/gpu0', 'property': 'type' } }");
    g_assert(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    rsp = qtest_qmp(qts, "{ 'execute': 'query-status' }");
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);

    qtest_quit(qts);
}

/*
 * -device on the command line with a missing sysfsdev: QEMU exits with
 * status 1 (no signal, no core) and says which device and why, once.
 */
static void test_realize_missing_cmdline(void)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *dev = g_strdup_printf(
        "vfio-pci,sysfsdev=%s,display=on", MISSING_MDEV);
    const char *argv[] = {
        qemu, "-M", "q35", "-accel", "qtest", "-qtest", "/dev/null",
        "-display", "none", "-nodefaults", "-device", dev, NULL,
    };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) gerr = NULL;
    int status;
    const char *hit;

    g_assert(qemu);
    g_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT,
                          NULL, NULL, &out, &err, &status, &gerr));
    g_test_message("stderr: %s", err);
    g_assert(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    hit = strstr(err, "no such host device");
    g_assert(hit);
    g_assert(strstr(err, MISSING_MDEV));
    g_assert(!strstr(hit + 1, "no such host device"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/vfio-display/build/qmp", test_build_qmp);
    qtest_add_func("/vfio-display/build/devices", test_build_devices);
    qtest_add_data_func("/vfio-display/realize/missing/device_add/vfio-pci",
                        "vfio-pci", test_realize_missing_hotplug);
    qtest_add_func("/vfio-display/realize/missing/cmdline",
                   test_realize_missing_cmdline);

    return g_test_run();
}
