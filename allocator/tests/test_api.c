/* test_api - unit tests of every API entry point, through the quill_* names
 * (so the same binary works in the ASan+UBSan build). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "quill.h"
#include "test_util.h"

static int aligned(const void *p, size_t a) {
    return ((uintptr_t)p & (a - 1)) == 0;
}

static int all_bytes(const void *p, int v, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != (unsigned char)v)
            return 0;
    return 1;
}

static void test_malloc_free(void) {
    quill_free(NULL); /* no-op */
    void *z1 = quill_malloc(0), *z2 = quill_malloc(0);
    CHECK(z1 != NULL && z2 != NULL && z1 != z2);
    quill_free(z1);
    quill_free(z2);
    static const size_t sizes[] = {1,    7,    16,    17,    48,     100,    128,    255,     256,
                                   257,  512,  1000,  1024,  1025,   2000,   4096,   8191,    20000,
                                   65536, 100000, 200000, 262144, 262145, 300000, 1 << 20, 5 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        unsigned char *p = quill_malloc(n);
        CHECK(p != NULL);
        if (!p)
            continue;
        CHECK(aligned(p, 16));
        CHECK(quill_malloc_usable_size(p) >= n);
        memset(p, 0x5a, n);
        CHECK(p[0] == 0x5a && p[n - 1] == 0x5a);
        quill_free(p);
    }
    CHECK(quill_malloc_usable_size(NULL) == 0);
}

static void test_huge(void) {
    errno = 0;
    CHECK(quill_malloc(SIZE_MAX) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(quill_malloc(SIZE_MAX - 4096) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(quill_malloc((size_t)PTRDIFF_MAX + 1) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(quill_calloc(SIZE_MAX / 2 + 1, 2) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(quill_calloc((size_t)1 << 33, (size_t)1 << 33) == NULL && errno == ENOMEM);
    CHECK(quill_realloc(NULL, SIZE_MAX) == NULL);
    void *p = quill_malloc(64);
    CHECK(quill_realloc(p, SIZE_MAX) == NULL); /* p stays valid */
    quill_free(p);
    void *q = NULL;
    CHECK(quill_posix_memalign(&q, 64, SIZE_MAX) == ENOMEM);
}

static void test_calloc(void) {
    static const size_t sizes[] = {1, 24, 200, 1024, 3000, 70000, 262144, 400000, 3 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        /* dirty a block of the same size first so reuse is exercised */
        for (int k = 0; k < 4; k++) {
            unsigned char *d = quill_malloc(n);
            memset(d, 0xee, n);
            quill_free(d);
        }
        unsigned char *p = quill_calloc(1, n);
        CHECK(p != NULL && all_bytes(p, 0, n));
        quill_free(p);
        unsigned char *q = quill_calloc(n, 1);
        CHECK(q != NULL && all_bytes(q, 0, n));
        quill_free(q);
    }
    void *z = quill_calloc(0, 10);
    CHECK(z != NULL);
    quill_free(z);
}

static void test_realloc(void) {
    unsigned char *p = quill_realloc(NULL, 10);
    CHECK(p != NULL);
    for (int i = 0; i < 10; i++)
        p[i] = (unsigned char)i;
    static const size_t grow[] = {16, 100, 1024, 1500, 70000, 262144, 300000, 2 << 20, 9 << 20};
    size_t prev = 10;
    for (size_t g = 0; g < sizeof grow / sizeof grow[0]; g++) {
        p = quill_realloc(p, grow[g]);
        CHECK(p != NULL);
        int ok = 1;
        for (size_t i = 0; i < 10; i++)
            ok &= p[i] == (unsigned char)i;
        CHECK(ok);
        memset(p + prev, 0x11, grow[g] - prev);
        CHECK(p[grow[g] - 1] == 0x11);
        prev = grow[g];
    }
    static const size_t shrink[] = {5 << 20, 300000, 100000, 2000, 500, 12};
    for (size_t s = 0; s < sizeof shrink / sizeof shrink[0]; s++) {
        p = quill_realloc(p, shrink[s]);
        CHECK(p != NULL && quill_malloc_usable_size(p) >= shrink[s]);
        int ok = 1;
        for (size_t i = 0; i < 10; i++)
            ok &= p[i] == (unsigned char)i;
        CHECK(ok);
        CHECK(p[11] == 0x11);
    }
    void *same = quill_realloc(p, 12);
    CHECK(same == p);
    CHECK(quill_realloc(same, 0) == NULL); /* frees, glibc semantics */
    /* memaligned large block, then realloc */
    void *a = quill_memalign(1 << 20, 500000);
    CHECK(a != NULL && aligned(a, 1 << 20));
    memset(a, 0x33, 500000);
    unsigned char *b = quill_realloc(a, 800000);
    CHECK(b != NULL && b[0] == 0x33 && b[499999] == 0x33);
    quill_free(b);
}

static void test_aligned(void) {
    static const size_t sizes[] = {1, 8, 100, 1000, 1024, 3000, 9000, 70000, 262144, 300000};
    for (size_t a = sizeof(void *); a <= ((size_t)1 << 22); a <<= 1) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            void *p = (void *)1;
            int rc = quill_posix_memalign(&p, a, sizes[i]);
            CHECK(rc == 0 && p != NULL && aligned(p, a));
            if (rc != 0)
                continue;
            CHECK(quill_malloc_usable_size(p) >= sizes[i]);
            memset(p, 0x77, sizes[i]);
            quill_free(p);
            void *q = quill_aligned_alloc(a, sizes[i]);
            CHECK(q != NULL && aligned(q, a));
            quill_free(q);
            void *m = quill_memalign(a, sizes[i]);
            CHECK(m != NULL && aligned(m, a));
            quill_free(m);
        }
    }
    void *p = NULL;
    CHECK(quill_posix_memalign(&p, 0, 16) == EINVAL);
    CHECK(quill_posix_memalign(&p, 3, 16) == EINVAL);
    CHECK(quill_posix_memalign(&p, 24, 16) == EINVAL);
    CHECK(quill_posix_memalign(&p, 4, 16) == EINVAL); /* not a multiple of sizeof(void*) */
    errno = 0;
    CHECK(quill_aligned_alloc(3, 16) == NULL && errno == EINVAL);
    void *m = quill_memalign(48, 100); /* rounded up to 64 like glibc */
    CHECK(m != NULL && aligned(m, 64));
    quill_free(m);
    void *z = NULL;
    CHECK(quill_posix_memalign(&z, 64, 0) == 0 && z != NULL);
    quill_free(z);
    void *v = quill_valloc(100);
    CHECK(v != NULL && aligned(v, 4096));
    quill_free(v);
    void *pv = quill_pvalloc(5000);
    CHECK(pv != NULL && aligned(pv, 4096) && quill_malloc_usable_size(pv) >= 8192);
    quill_free(pv);
}

/* many live blocks with unique contents, freed in shuffled order */
static void test_many(void) {
    enum { N = 50000 };
    static unsigned char *ptr[N];
    static size_t len[N];
    uint64_t s = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        size_t n = (s % 8 == 0) ? 1 + s % 20000 : 1 + s % 1024;
        len[i] = n;
        ptr[i] = quill_malloc(n);
        memset(ptr[i], i & 0xff, n);
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
        int j = (int)((i * 7919L) % N);
        if (!all_bytes(ptr[j], j & 0xff, len[j]))
            bad++;
        quill_free(ptr[j]);
    }
    CHECK(bad == 0);
}

static void *thread_alloc(void *arg) {
    void **out = arg;
    for (int i = 0; i < 2000; i++) {
        out[i] = quill_malloc(16 + (size_t)(i % 900));
        memset(out[i], 0x42, 16);
    }
    return NULL; /* exits with blocks still live: they are freed by main */
}

static void test_thread_exit(void) {
    static void *blocks[2000];
    for (int round = 0; round < 3; round++) {
        pthread_t t;
        pthread_create(&t, NULL, thread_alloc, blocks);
        pthread_join(t, NULL);
        int ok = 1;
        for (int i = 0; i < 2000; i++) {
            ok &= all_bytes(blocks[i], 0x42, 16);
            quill_free(blocks[i]);
        }
        CHECK(ok);
    }
}

static void test_fork(void) {
    void *keep = quill_malloc(100);
    pid_t pid = fork();
    if (pid == 0) {
        int ok = 1;
        for (int i = 0; i < 10000; i++) {
            void *p = quill_malloc((size_t)(i % 3000) + 1);
            ok &= p != NULL;
            quill_free(p);
        }
        quill_free(keep);
        _exit(ok ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    quill_free(keep);
}

int main(void) {
    test_malloc_free();
    test_huge();
    test_calloc();
    test_realloc();
    test_aligned();
    test_many();
    test_thread_exit();
    test_fork();
    return test_done("test_api");
}
