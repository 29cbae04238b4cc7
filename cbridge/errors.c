#include "bridge.h"
#include <stdlib.h>
#include <string.h>

static void copy_str(char *dst, size_t cap, const char *src) {
    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

nt_errq *nt_capture(void) {
    if (ERR_peek_error() == 0)
        return NULL;
    nt_errq *q = calloc(1, sizeof(*q));
    if (q == NULL) {
        ERR_clear_error();
        return NULL;
    }
    for (;;) {
        const char *file = NULL, *func = NULL, *data = NULL;
        int line = 0, flags = 0;
        unsigned long code = ERR_get_error_all(&file, &line, &func, &data, &flags);
        if (code == 0)
            break;
        if (q->n >= NT_ERR_MAX) {
            q->dropped++;
            continue;
        }
        nt_err_entry *e = &q->e[q->n++];
        e->code = code;
        e->line = line;
        copy_str(e->lib, sizeof e->lib, ERR_lib_error_string(code));
        copy_str(e->fn, sizeof e->fn, func);
        copy_str(e->reason, sizeof e->reason, ERR_reason_error_string(code));
        copy_str(e->file, sizeof e->file, file);
        copy_str(e->data, sizeof e->data, (flags & ERR_TXT_STRING) ? data : NULL);
    }
    return q;
}

nt_errq *nt_capture_or(const char *what) {
    nt_errq *q = nt_capture();
    if (q != NULL)
        return q;
    q = calloc(1, sizeof(*q));
    if (q == NULL)
        return NULL;
    q->n = 1;
    copy_str(q->e[0].reason, sizeof q->e[0].reason, what != NULL ? what : "operation failed");
    return q;
}

void nt_errq_free(nt_errq *q) { free(q); }
