/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The X server's cursor where the pointer is, as a user sees it: the
 * tests' proof that a display's host cursor shows the guest's cursor
 * plane.  Moves the pointer to X,Y on the root window first, then prints
 *   cursor WIDTH HEIGHT XHOT YHOT
 * and the image as WIDTH * HEIGHT ARGB words in hex, a row a line.
 *
 * usage: DISPLAY=:N xcursor X Y
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <X11/Xlib.h>
#include <X11/extensions/Xfixes.h>

int main(int argc, char **argv)
{
    Display *dpy;
    XFixesCursorImage *img;
    int event, error, x, y;

    if (argc != 3) {
        fprintf(stderr, "usage: xcursor X Y\n");
        return 2;
    }
    dpy = XOpenDisplay(NULL);
    if (!dpy || !XFixesQueryExtension(dpy, &event, &error)) {
        fprintf(stderr, "xcursor: no X display with XFIXES\n");
        return 1;
    }
    XWarpPointer(dpy, None, DefaultRootWindow(dpy), 0, 0, 0, 0,
                 atoi(argv[1]), atoi(argv[2]));
    XSync(dpy, False);
    usleep(200 * 1000);         /* the client under it sets its cursor */
    img = XFixesGetCursorImage(dpy);
    if (!img) {
        fprintf(stderr, "xcursor: no cursor image\n");
        return 1;
    }
    printf("cursor %u %u %u %u\n", img->width, img->height, img->xhot,
           img->yhot);
    for (y = 0; y < img->height; y++) {
        for (x = 0; x < img->width; x++) {
            printf("%s%08lx", x ? " " : "",
                   img->pixels[y * img->width + x] & 0xffffffffUL);
        }
        printf("\n");
    }
    XFree(img);
    XCloseDisplay(dpy);
    return 0;
}
