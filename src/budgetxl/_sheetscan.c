/* The worksheet pass of budgetxl.guard, in C: the same expat tokenizer the
 * pure-Python pass uses, with the element and text handlers in C instead of
 * Python callbacks (those callbacks were most of the guard's time).
 *
 * It must count exactly what guard._sheet_part_python counts; the parity test
 * (tests/test_guard_native.py) runs both on generated sheets. Optional: when
 * it is not built (no compiler, no expat headers, e.g. a Windows install) the
 * Python pass runs instead.
 *
 *   s = Scanner(sst_lengths, cell_room, char_room)   # array('L'), ints
 *   code = s.feed(data, final)    # 0 go on; 1 cells over budget; 2 the same,
 *                                 # by a merged range; 3 text over budget;
 *                                 # 4 a DTD or entity declaration; 5 bad XML
 *   code = s.finish()             # closes the open cell: 0 or 3
 *   s.state()  -> (max_r, max_c, merged, present, chars, r, c)
 *   s.xml_error() -> (expat error code, line)
 *   s.position() -> byte index of the last parse event (guard._feed reads more
 *                   at once while a long token makes no progress)
 *   s.uncached (list of (r, c)), s.errors (dict (r, c) -> str)
 *
 * With ``strings`` (the shared strings, a list of str) and ``styles`` (bytes,
 * one per cell format: 0 other, 1 a date or time, 2 a duration) the same pass
 * also reads the values, so no second reader runs (guard.scan(values=True)):
 *   s.values() -> (rows, dates) after finish(): rows is a list of lists from A1
 *   to the farthest cell holding a value, padded with None; dates lists the
 *   (r, c, kind) of numbers in a date or duration format (guard converts them).
 * Values are read as python-calamine reads them (tests/test_sheetscan_values.py
 * holds the two to the same grids): shared string by index, inline string
 * without its phonetic runs, number as float (text that is no number stays
 * text, so the parser names the cell), bool, error text, empty as None.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <expat.h>
#include <string.h>
#include <limits.h>

#define FAR 1000000000LL

enum { T_N, T_S, T_STR, T_E, T_B, T_INLINE, T_D };
enum { GO, CELLS, CELLS_MERGED, TEXT, DTD, BAD_XML, NO_MEMORY };

typedef struct {
    PyObject_HEAD
    XML_Parser p;
    Py_buffer sst;
    int has_sst;
    Py_ssize_t sst_len;
    long long cell_room, char_room;
    long long row, r, c, max_r, max_c, merged, chars, present;
    int open_cell, t, has_f, cap; /* cap: 1 inside <v>, 2 inside <t> */
    char *v;
    size_t v_len, v_cap;
    int stop;
    int busy; /* inside feed: a re-entrant feed would corrupt expat */
    long long longest; /* the longest shared string: what an unreadable index may show */
    PyObject *uncached;
    PyObject *errors;
    /* values: only when the caller asks for them */
    PyObject *strings; /* list of str, or NULL */
    PyObject *styles;  /* bytes */
    PyObject *rows;    /* list: None or a list per row */
    PyObject *dates;   /* list of (r, c, kind) */
    long long style, width;
    int in_is, has_is, has_v, in_rph, done, t_keep; /* t_keep: the open <t> has xml:space="preserve" */
    size_t t_start;    /* where the open <t>'s text begins in ist */
    char *ist;         /* text of an inline string */
    size_t ist_len, ist_cap;
} Scanner;

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static int is_alpha(char ch) { return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'); }
static int is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

/* 'XFD1048576' -> (1048576, 16384); 0 when it is not a plain A1 reference
 * (guard._ref). '$' is removed by the caller where the Python pass removes it. */
static int parse_ref(const char *s, size_t n, long long *row, long long *col) {
    size_t i = n;
    while (i > 0 && is_digit(s[i - 1]))
        i--;
    size_t nd = n - i, nl = i;
    if (nd == 0 || nl == 0)
        return 0;
    for (size_t k = 0; k < nl; k++)
        if (!is_alpha(s[k]))
            return 0;
    if (nd < 10) {
        long long v = 0;
        for (size_t k = i; k < n; k++)
            v = v * 10 + (s[k] - '0');
        *row = v;
    } else
        *row = FAR;
    if (nl < 5) {
        long long v = 0;
        for (size_t k = 0; k < nl; k++) {
            char ch = s[k];
            if (ch >= 'a')
                ch -= 32;
            v = v * 26 + (ch - 64);
        }
        *col = v;
    } else
        *col = FAR;
    return 1;
}

/* guard._area: cells in 'A1:C3' ('$' ignored), 0 when unreadable */
static long long area_of(const char *ref) {
    const char *colon = strchr(ref, ':');
    size_t total = strlen(ref);
    const char *end_a = colon ? colon : ref + total;
    const char *sb = (colon && colon[1]) ? colon + 1 : ref; /* 'A1:' is 'A1' */
    const char *end_b = (colon && colon[1]) ? ref + total : end_a;
    char *a = PyMem_Malloc(total + 1), *b = PyMem_Malloc(total + 1);
    long long cells = 0;
    if (a && b) {
        size_t na = 0, nb = 0;
        for (const char *q = ref; q < end_a; q++)
            if (*q != '$') a[na++] = *q;
        for (const char *q = sb; q < end_b; q++)
            if (*q != '$') b[nb++] = *q;
        long long r1, c1, r2, c2;
        if (parse_ref(a, na, &r1, &c1) && parse_ref(b, nb, &r2, &c2))
            cells = ((r2 > r1 ? r2 - r1 : r1 - r2) + 1) * ((c2 > c1 ? c2 - c1 : c1 - c2) + 1); /* ≤ (1e9 + 1)^2 */
    }
    PyMem_Free(a);
    PyMem_Free(b);
    return cells;
}

static unsigned long sst_at(Scanner *s, Py_ssize_t i) { /* memcpy: the buffer may be unaligned */
    unsigned long n;
    memcpy(&n, (const char *)s->sst.buf + i * (Py_ssize_t)sizeof n, sizeof n);
    return n;
}

static void add_chars(Scanner *s, unsigned long long n) {
    if (n > (unsigned long long)(LLONG_MAX - s->chars)) s->chars = LLONG_MAX; else s->chars += (long long)n;
}

static long long codepoints(const char *s, size_t n) {
    long long k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            k++;
    return k;
}

static const char *attr(const XML_Char **atts, const char *name) {
    for (int i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], name) == 0)
            return atts[i + 1];
    return NULL;
}

static void halt(Scanner *s, int why) {
    if (!s->stop) {
        s->stop = why;
        XML_StopParser(s->p, XML_FALSE);
    }
}

static int over_cells(Scanner *s) {
    /* max_r * max_c + merged > cell_room, without overflow */
    long double spanned = (long double)s->max_r * (long double)s->max_c + (long double)s->merged;
    return spanned > (long double)s->cell_room;
}

static int grow(char **buf, size_t *cap, size_t want) {
    if (want <= *cap) return 0;
    size_t size = want * 2 + 64;
    char *grown = PyMem_Realloc(*buf, size);
    if (!grown) return -1;
    *buf = grown;
    *cap = size;
    return 0;
}

/* rows[r-1][c-1] = v (v stolen); rows and cells in between are None */
static int put(Scanner *s, PyObject *v) {
    long long r = s->r, c = s->c;
    if (!v) return -1;
    if (r < 1 || c < 1) { Py_DECREF(v); return 0; }
    Py_ssize_t n = PyList_GET_SIZE(s->rows);
    for (; n < r; n++)
        if (PyList_Append(s->rows, Py_None) < 0) { Py_DECREF(v); return -1; }
    PyObject *row = PyList_GET_ITEM(s->rows, r - 1);
    if (row == Py_None) {
        row = PyList_New(0);
        if (!row) { Py_DECREF(v); return -1; }
        PyList_SetItem(s->rows, r - 1, row); /* steals row, releases the None */
    }
    for (Py_ssize_t m = PyList_GET_SIZE(row); m < c; m++)
        if (PyList_Append(row, Py_None) < 0) { Py_DECREF(v); return -1; }
    PyList_SetItem(row, c - 1, v);
    if (c > s->width) s->width = c;
    return 0;
}

static int hex(char ch) {
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* Excel writes a character XML cannot hold as _xHHHH_ (a vertical tab pasted
 * from Word: _x000B_); the readers decode those up to U+00FF, in place */
static size_t unescape_x(char *b, size_t n) {
    if (!memchr(b, '_', n)) return n;
    size_t i = 0, o = 0;
    while (i < n) {
        if (b[i] == '_' && i + 6 < n && b[i + 1] == 'x' && b[i + 6] == '_') {
            int h0 = hex(b[i + 2]), h1 = hex(b[i + 3]), h2 = hex(b[i + 4]), h3 = hex(b[i + 5]);
            if (h0 == 0 && h1 == 0 && h2 >= 0 && h3 >= 0) {
                int v = h2 * 16 + h3;
                if (v < 0x80)
                    b[o++] = (char)v;
                else {
                    b[o++] = (char)(0xC0 | (v >> 6));
                    b[o++] = (char)(0x80 | (v & 0x3F));
                }
                i += 7;
                continue;
            }
        }
        b[o++] = b[i++];
    }
    return o;
}

/* a number cell: float when the text is a number, else the text itself */
static PyObject *number(const char *v, size_t n) {
    char small[64], *buf = n < sizeof small ? small : PyMem_Malloc(n + 1);
    if (!buf) return PyErr_NoMemory();
    memcpy(buf, v, n);
    buf[n] = 0;
    char *end = NULL;
    double d = PyOS_string_to_double(buf, &end, NULL);
    PyObject *out;
    if ((d == -1.0 && PyErr_Occurred()) || end != buf + n) {
        PyErr_Clear();
        out = PyUnicode_DecodeUTF8(v, (Py_ssize_t)n, "replace");
    } else
        out = PyFloat_FromDouble(d);
    if (buf != small) PyMem_Free(buf);
    return out;
}

static int digits_only(const char *v, size_t n) {
    if (!n) return 0;
    for (size_t q = 0; q < n; q++)
        if (!is_digit(v[q])) return 0;
    return 1;
}

/* the value of the cell being closed; NULL with no error: no value; None:
 * an empty string (blank, but the sheet reaches that far) */
static PyObject *cell_value(Scanner *s, const char *v, size_t n) {
    switch (s->t) {
    case T_S: {
        if (!digits_only(v, n)) return NULL;
        size_t k = 0;
        while (k < n && v[k] == '0') k++;
        if (n - k > 12) return NULL;
        unsigned long long idx = 0;
        for (; k < n; k++) idx = idx * 10 + (unsigned)(v[k] - '0');
        if (idx >= (unsigned long long)PyList_GET_SIZE(s->strings)) return NULL;
        PyObject *text = PyList_GET_ITEM(s->strings, (Py_ssize_t)idx);
        if (!PyUnicode_Check(text) || PyUnicode_GET_LENGTH(text) == 0)
            Py_RETURN_NONE; /* an empty string: blank, but the sheet reaches it (as in calamine) */
        Py_INCREF(text);
        return text;
    }
    case T_INLINE:
        if (!s->has_is) return NULL;
        if (!s->ist_len) Py_RETURN_NONE;
        s->ist_len = unescape_x(s->ist, s->ist_len);
        return PyUnicode_DecodeUTF8(s->ist, (Py_ssize_t)s->ist_len, "replace");
    case T_STR:
    case T_D: {
        if (!s->has_v) return NULL;
        if (!s->v_len) Py_RETURN_NONE;
        if (s->t == T_STR) s->v_len = unescape_x(s->v, s->v_len);
        return PyUnicode_DecodeUTF8(s->v, (Py_ssize_t)s->v_len, "replace");
    }
    case T_E:
        if (!n) return NULL;
        return PyUnicode_DecodeUTF8(v, (Py_ssize_t)n, "replace");
    case T_B:
        if (!n) return NULL;
        return PyBool_FromLong(!(n == 1 && v[0] == '0'));
    default: {
        if (!n) return NULL;
        PyObject *out = number(v, n);
        if (out && PyFloat_Check(out) && s->style >= 0 && s->style < PyBytes_GET_SIZE(s->styles)) {
            int kind = (unsigned char)PyBytes_AS_STRING(s->styles)[s->style];
            if (kind) {
                PyObject *at = Py_BuildValue("(LLi)", s->r, s->c, kind);
                if (!at || PyList_Append(s->dates, at) < 0) { Py_XDECREF(at); Py_DECREF(out); return NULL; }
                Py_DECREF(at);
            }
        }
        return out;
    }
    }
}

static void close_cell(Scanner *s) {
    s->open_cell = 0;
    const char *v = s->v ? s->v : "";
    size_t a = 0, b = s->v_len;
    while (a < b && is_space(v[a])) a++;
    while (b > a && is_space(v[b - 1])) b--;
    size_t n = b - a;
    v += a;
    if (s->t == T_S) {
        const char *raw = s->v ? s->v : "";
        size_t rn = s->v_len, k = 0;
        int digits = rn > 0;
        for (size_t q = 0; q < rn && digits; q++)
            if (!is_digit(raw[q])) digits = 0;
        if (digits) {
            while (k < rn && raw[k] == '0') k++;      /* leading zeros: any number of them */
            unsigned long long idx = 0;
            if (rn - k <= 12) {
                for (; k < rn; k++) idx = idx * 10 + (unsigned)(raw[k] - '0');
                if (idx < (unsigned long long)s->sst_len)
                    add_chars(s, sst_at(s, (Py_ssize_t)idx));
            }                                          /* else out of range: the readers show nothing */
        } else if (rn) {
            add_chars(s, (unsigned long long)s->longest);
        }
    } else if (s->t == T_STR) {
        add_chars(s, (unsigned long long)codepoints(v, n));
    } else if (s->t == T_E && n) {
        PyObject *key = Py_BuildValue("(LL)", s->r, s->c);
        PyObject *text = PyUnicode_DecodeUTF8(v, (Py_ssize_t)n, "replace");
        if (!key || !text || PyDict_SetItem(s->errors, key, text) < 0) {
            PyErr_Clear();
            halt(s, NO_MEMORY);
        }
        Py_XDECREF(key);
        Py_XDECREF(text);
    }
    if (s->has_f && !n) {
        PyObject *key = Py_BuildValue("(LL)", s->r, s->c);
        if (!key || PyList_Append(s->uncached, key) < 0) {
            PyErr_Clear();
            halt(s, NO_MEMORY);
        }
        Py_XDECREF(key);
    }
    if (s->strings && !s->stop) {
        PyObject *value = cell_value(s, v, n);
        if (value ? put(s, value) < 0 : PyErr_Occurred() != NULL) {
            PyErr_Clear();
            halt(s, NO_MEMORY);
        }
    }
    if (s->chars > s->char_room)
        halt(s, TEXT);
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **atts) {
    Scanner *s = (Scanner *)data;
    if (s->stop)
        return;
    const char *local = strrchr(name, ':');
    local = local ? local + 1 : name;
    switch (local[0]) {
    case 'c':
        if (local[1] == 0) {
            if (s->open_cell && (s->v_len || s->has_f || s->strings))
                close_cell(s);
            if (s->stop) return;
            const char *ref = attr(atts, "r");
            long long rr, cc;
            if (ref && ref[0] && parse_ref(ref, strlen(ref), &rr, &cc)) {
                s->r = rr;
                s->c = cc;
            } else { /* no usable reference: the next cell of the row */
                s->r = s->row ? s->row : 1;
                s->c = s->c + 1;
            }
            s->present++;
            const char *t = attr(atts, "t");
            s->t = !t ? T_N : strcmp(t, "s") == 0 ? T_S : strcmp(t, "str") == 0 ? T_STR : strcmp(t, "e") == 0 ? T_E
                 : strcmp(t, "b") == 0 ? T_B : strcmp(t, "inlineStr") == 0 ? T_INLINE : strcmp(t, "d") == 0 ? T_D : T_N;
            s->has_f = 0;
            s->v_len = 0;
            s->ist_len = 0;
            s->in_is = s->has_is = s->has_v = s->in_rph = 0;
            s->style = 0;
            if (s->strings) {
                const char *st = attr(atts, "s");
                if (st && digits_only(st, strlen(st)) && strlen(st) < 10)
                    s->style = atol(st);
            }
            s->cap = 0;
            s->open_cell = 1;
            if (s->r > s->max_r || s->c > s->max_c) {
                if (s->r > s->max_r) s->max_r = s->r;
                if (s->c > s->max_c) s->max_c = s->c;
                if (over_cells(s))
                    halt(s, CELLS);
            }
            return;
        }
        break;
    case 'v':
        if (local[1] == 0) { s->cap = 1; s->v_len = 0; s->has_v |= s->open_cell; return; }
        break;
    case 'f':
        if (local[1] == 0) { s->has_f = 1; s->cap = 0; return; }
        break;
    case 't':
        if (local[1] == 0) {
            s->cap = 2;
            if (s->strings) {
                const char *space = attr(atts, "xml:space");
                s->t_keep = space && strcmp(space, "preserve") == 0;
                s->t_start = s->ist_len;
            }
            return;
        }
        break;
    case 'i':
        if (local[1] == 's' && local[2] == 0) { s->in_is = s->open_cell; s->has_is |= s->open_cell; s->cap = 0; return; }
        break;
    case 'r':
        if (strcmp(local, "rPh") == 0) { s->in_rph = 1; s->cap = 0; return; }
        if (strcmp(local, "row") == 0) {
            if (s->open_cell)
                close_cell(s);
            if (s->stop) return;
            const char *text = attr(atts, "r");
            int digits = text && text[0];
            if (digits)
                for (const char *q = text; *q; q++)
                    if (!is_digit(*q)) { digits = 0; break; }
            if (digits) {
                size_t n = strlen(text);
                long long v = 0;
                if (n < 10)
                    for (size_t k = 0; k < n; k++) v = v * 10 + (text[k] - '0');
                else
                    v = FAR;
                s->row = v;
            } else
                s->row = s->row + 1;
            s->r = s->row;
            s->c = 0;
            s->cap = 0;
            return;
        }
        break;
    case 'm':
        if (strcmp(local, "mergeCell") == 0) {
            const char *ref = attr(atts, "ref");
            long long area = area_of(ref ? ref : "");
            s->merged = area > LLONG_MAX - s->merged ? LLONG_MAX : s->merged + area;
            if (over_cells(s))
                halt(s, CELLS_MERGED);
            return;
        }
        break;
    }
    s->cap = 0;
}

static void XMLCALL on_end(void *data, const XML_Char *name) {
    Scanner *s = (Scanner *)data;
    const char *local = strrchr(name, ':');
    local = local ? local + 1 : name;
    if (local[0] == 't' && local[1] == 0) {
        if (s->cap == 2 && s->strings && !s->t_keep && s->ist_len > s->t_start) {
            /* a <t> without xml:space="preserve": spaces, tabs and line ends
             * around its text are not part of it (as calamine reads it) */
            char *a = s->ist + s->t_start, *b = s->ist + s->ist_len;
            while (a < b && is_space(*a)) a++;
            while (b > a && is_space(b[-1])) b--;
            memmove(s->ist + s->t_start, a, (size_t)(b - a));
            s->ist_len = s->t_start + (size_t)(b - a);
        }
        s->cap = 0;
    } else if (local[0] == 'v' && local[1] == 0)
        s->cap = 0;
    else if (strcmp(local, "rPh") == 0)
        s->in_rph = 0;
    else if (strcmp(local, "is") == 0)
        s->in_is = 0;
    else if (local[0] == 'c' && local[1] == 0 && s->open_cell && !s->stop)
        close_cell(s); /* text after </c> is no part of the cell */
}

static void XMLCALL on_text(void *data, const XML_Char *text, int len) {
    Scanner *s = (Scanner *)data;
    if (s->stop)
        return;
    if (s->cap == 1) {
        if (s->open_cell) {
            if (s->v_len + (size_t)len > s->v_cap) {
                size_t want = (s->v_len + (size_t)len) * 2 + 64;
                char *grown = PyMem_Realloc(s->v, want);
                if (!grown) { halt(s, NO_MEMORY); return; }
                s->v = grown;
                s->v_cap = want;
            }
            memcpy(s->v + s->v_len, text, (size_t)len);
            s->v_len += (size_t)len;
        }
    } else if (s->cap == 2) {
        add_chars(s, (unsigned long long)codepoints(text, (size_t)len));
        if (s->strings && s->in_is && !s->in_rph && s->open_cell && s->t == T_INLINE) {
            if (grow(&s->ist, &s->ist_cap, s->ist_len + (size_t)len) < 0) { halt(s, NO_MEMORY); return; }
            memcpy(s->ist + s->ist_len, text, (size_t)len);
            s->ist_len += (size_t)len;
        }
    }
}

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid, int internal) {
    (void)name; (void)sysid; (void)pubid; (void)internal;
    halt((Scanner *)data, DTD);
}

static void XMLCALL on_entity(void *data, const XML_Char *name, int pe, const XML_Char *value, int len, const XML_Char *base,
                              const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation) {
    (void)name; (void)pe; (void)value; (void)len; (void)base; (void)sysid; (void)pubid; (void)notation;
    halt((Scanner *)data, DTD);
}

static int Scanner_init(Scanner *s, PyObject *args, PyObject *kw) {
    PyObject *sst, *strings = Py_None, *styles = Py_None;
    long long cell_room, char_room;
    static char *names[] = {"sst", "cell_room", "char_room", "strings", "styles", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OLL|OO", names, &sst, &cell_room, &char_room, &strings, &styles))
        return -1;
    if (strings != Py_None && (!PyList_Check(strings) || !PyBytes_Check(styles))) {
        PyErr_SetString(PyExc_TypeError, "strings must be a list and styles bytes");
        return -1;
    }
    if (s->p || s->has_sst) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner already initialised");
        return -1;
    }
    if (PyObject_GetBuffer(sst, &s->sst, PyBUF_FORMAT | PyBUF_ND) < 0)
        return -1;
    s->has_sst = 1;
    if (s->sst.itemsize != sizeof(unsigned long) || !s->sst.format || strcmp(s->sst.format, "L") != 0) {
        PyErr_SetString(PyExc_TypeError, "sst must be array('L')");
        return -1;
    }
    s->sst_len = s->sst.len / s->sst.itemsize;
    for (Py_ssize_t i = 0; i < s->sst_len; i++) {
        unsigned long n = sst_at(s, i);
        if (n > (unsigned long)s->longest) s->longest = n > (unsigned long)LLONG_MAX ? LLONG_MAX : (long long)n;
    }
    s->cell_room = cell_room;
    s->char_room = char_room;
    s->uncached = PyList_New(0);
    s->errors = PyDict_New();
    if (!s->uncached || !s->errors)
        return -1;
    if (strings != Py_None) {
        Py_INCREF(strings);
        Py_INCREF(styles);
        s->strings = strings;
        s->styles = styles;
        s->rows = PyList_New(0);
        s->dates = PyList_New(0);
        if (!s->rows || !s->dates)
            return -1;
    }
    s->p = XML_ParserCreate(NULL);
    if (!s->p) {
        PyErr_NoMemory();
        return -1;
    }
    XML_SetUserData(s->p, s);
    XML_SetStartElementHandler(s->p, on_start);
    XML_SetCharacterDataHandler(s->p, on_text);
    XML_SetEndElementHandler(s->p, on_end);
    XML_SetStartDoctypeDeclHandler(s->p, on_doctype);
    XML_SetEntityDeclHandler(s->p, on_entity);
    return 0;
}

static void Scanner_dealloc(Scanner *s) {
    if (s->p) XML_ParserFree(s->p);
    if (s->has_sst) PyBuffer_Release(&s->sst);
    PyMem_Free(s->v);
    Py_XDECREF(s->uncached);
    Py_XDECREF(s->errors);
    Py_XDECREF(s->strings);
    Py_XDECREF(s->styles);
    Py_XDECREF(s->rows);
    Py_XDECREF(s->dates);
    PyMem_Free(s->ist);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyObject *Scanner_feed(Scanner *s, PyObject *args) {
    Py_buffer data;
    int final;
    if (!PyArg_ParseTuple(args, "y*p", &data, &final))
        return NULL;
    if (!s->p) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_RuntimeError, "Scanner not initialised");
        return NULL;
    }
    if (s->busy) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_RuntimeError, "Scanner.feed is not re-entrant");
        return NULL;
    }
    if (s->stop) {
        PyBuffer_Release(&data);
        return PyLong_FromLong(s->stop);
    }
    s->busy = 1;
    const char *buf = data.buf;
    Py_ssize_t left = data.len;
    enum XML_Status status = XML_STATUS_OK;
    do { /* expat takes an int length */
        int n = left > (1 << 30) ? (1 << 30) : (int)left;
        left -= n;
        status = XML_Parse(s->p, buf, n, final && left == 0);
        buf += n;
    } while (status == XML_STATUS_OK && left > 0);
    s->busy = 0;
    PyBuffer_Release(&data);
    if (s->stop == NO_MEMORY)
        return PyErr_NoMemory();
    if (s->stop)
        return PyLong_FromLong(s->stop);
    if (status != XML_STATUS_OK) {
        s->stop = BAD_XML;
        return PyLong_FromLong(BAD_XML);
    }
    return PyLong_FromLong(GO);
}

static PyObject *Scanner_finish(Scanner *s, PyObject *unused) {
    (void)unused;
    if (!s->stop && s->open_cell)
        close_cell(s);
    if (s->stop == NO_MEMORY)
        return PyErr_NoMemory();
    return PyLong_FromLong(s->stop == TEXT ? TEXT : GO);
}

static PyObject *Scanner_values(Scanner *s, PyObject *unused) {
    (void)unused;
    if (!s->rows) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner made without strings: no values");
        return NULL;
    }
    if (s->stop || s->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner stopped: no values");
        return NULL;
    }
    if (!s->done) { /* once: every row a list as wide as the widest */
        Py_ssize_t n = PyList_GET_SIZE(s->rows);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *row = PyList_GET_ITEM(s->rows, i);
            if (row == Py_None) {
                row = PyList_New(0);
                if (!row) return NULL;
                PyList_SetItem(s->rows, i, row);
            }
            for (Py_ssize_t m = PyList_GET_SIZE(row); m < s->width; m++)
                if (PyList_Append(row, Py_None) < 0) return NULL;
        }
        s->done = 1;
    }
    return Py_BuildValue("(OO)", s->rows, s->dates);
}

static PyObject *Scanner_state(Scanner *s, PyObject *unused) {
    (void)unused;
    return Py_BuildValue("(LLLLLLL)", s->max_r, s->max_c, s->merged, s->present, s->chars, s->r, s->c);
}

static PyObject *Scanner_position(Scanner *s, PyObject *unused) {
    (void)unused;
    return PyLong_FromLongLong(s->p ? (long long)XML_GetCurrentByteIndex(s->p) : -1);
}

static PyObject *Scanner_xml_error(Scanner *s, PyObject *unused) {
    (void)unused;
    if (!s->p)
        Py_RETURN_NONE;
    return Py_BuildValue("(in)", (int)XML_GetErrorCode(s->p), (Py_ssize_t)XML_GetCurrentLineNumber(s->p));
}

static PyObject *Scanner_uncached(Scanner *s, void *closure) {
    (void)closure;
    Py_INCREF(s->uncached ? s->uncached : Py_None);
    return s->uncached ? s->uncached : Py_None;
}

static PyObject *Scanner_errors(Scanner *s, void *closure) {
    (void)closure;
    Py_INCREF(s->errors ? s->errors : Py_None);
    return s->errors ? s->errors : Py_None;
}

static PyMethodDef Scanner_methods[] = {
    {"feed", (PyCFunction)Scanner_feed, METH_VARARGS, "feed(data, final) -> code"},
    {"finish", (PyCFunction)Scanner_finish, METH_NOARGS, "close the open cell -> code"},
    {"state", (PyCFunction)Scanner_state, METH_NOARGS, "(max_r, max_c, merged, present, chars, r, c)"},
    {"values", (PyCFunction)Scanner_values, METH_NOARGS, "(rows, dates) after finish(), when made with strings"},
    {"xml_error", (PyCFunction)Scanner_xml_error, METH_NOARGS, "(expat error code, line)"},
    {"position", (PyCFunction)Scanner_position, METH_NOARGS, "byte index of the last parse event"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Scanner_getset[] = {
    {"uncached", (getter)Scanner_uncached, NULL, "cells with a formula and no value", NULL},
    {"errors", (getter)Scanner_errors, NULL, "error values by cell", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "budgetxl._sheetscan.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
    .tp_getset = Scanner_getset,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sheetscan", "The worksheet pass of budgetxl.guard, in C.", -1, NULL};

PyMODINIT_FUNC PyInit__sheetscan(void) {
    if (PyType_Ready(&ScannerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
