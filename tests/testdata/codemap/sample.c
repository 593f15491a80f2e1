#include <stdlib.h>
#include "buffer.h"

struct buffer {
    char *data;
    size_t len;
};

enum mode { MODE_READ, MODE_WRITE };

typedef struct point {
    int x;
    int y;
} point_t;

int buffer_append(struct buffer *buf, const char *bytes,
                  size_t n);

static struct buffer *buffer_new(size_t capacity)
{
    struct buffer *buf = malloc(sizeof *buf);
    buf->data = malloc(capacity);
    buf->len = 0;
    return buf;
}

int buffer_append(struct buffer *buf, const char *bytes, size_t n)
{
    return 0;
}
