/* The worksheet pass of budgetxl.guard, in C: the element and text handlers
 * of the pure-Python pass in C instead of Python callbacks, fed by an own
 * tokenizer for the plain XML worksheets are written in (below: several times
 * faster than expat) or, for anything else, by expat itself.
 *
 * It must count exactly what guard._sheet_part_python counts; the parity test
 * (tests/test_guard_native.py) runs both on generated sheets. Optional: when
 * it is not built (no compiler, no expat headers, e.g. a Windows install) the
 * Python pass runs instead.
 *
 *   s = Scanner(sst_lengths, cell_room, char_room)   # array('L'), ints
 *   code = s.feed(data, final)    # 0 go on; 1 cells over budget; 2 the same,
 *                                 # by a merged range; 3 text over budget;
 *                                 # 4 a DTD or entity declaration; 5 bad XML;
 *                                 # 7 the own tokenizer leaves this part to
 *                                 # expat: make a Scanner(..., expat=True)
 *                                 # and feed it the part from its start
 *   code = s.finish()             # closes the open cell: 0 or 3
 *   s.state()  -> (max_r, max_c, merged, present, chars, r, c)
 *   s.xml_error() -> (expat error code, line)   (expat=True)
 *   s.position() -> byte index of the last parse event (guard._feed reads more
 *                   at once while a long token makes no progress)
 *   s.uncached (list of (r, c)), s.errors (dict (r, c) -> str)
 *
 * With ``strings`` (the shared strings, a list of str) and ``styles`` (bytes,
 * one per cell format: 0 other, 1 a date or time, 2 a duration) the same pass
 * also reads the values, so no second reader runs (guard.scan(values=True)):
 *   s.values() -> (rows, dates) after finish(): rows is a list of lists from A1
 *   to the farthest cell holding a value, padded with None; dates lists the
 *   (r, c, kind) of numbers in a date (1) or duration (2) format and of t="d"
 *   ISO texts (3) that are still their cell's value (guard converts them).
 *   Before finish(), after a refusal or while feeding it raises RuntimeError;
 *   feed() after finish() too.
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
enum { GO, CELLS, CELLS_MERGED, TEXT, DTD, BAD_XML, NO_MEMORY, RETRY, STRINGS, STYLES };
enum { SHEET, SHARED, STYLESHEET }; /* what part a Scanner reads */

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
    int finished; /* finish() ran: no more feeding; values() may run */
    long long longest; /* the longest shared string: what an unreadable index may show */
    PyObject *uncached;
    PyObject *errors;
    /* values: only when the caller asks for them */
    PyObject *strings; /* list of str, or NULL */
    PyObject *styles;  /* bytes */
    PyObject *rows;    /* list: None or a list per row */
    PyObject *dates;   /* list of (r, c, kind, value); values() keeps (r, c, kind) of those still in place */
    long long style, width;
    int last; /* the last of <v> (1), <is> (2), <f> (3) directly in the cell: calamine reads that one */
    int in_is, has_v, in_rph, done, t_keep; /* t_keep: the open <t> has xml:space="preserve" */
    size_t t_start;    /* where the open <t>'s text begins in ist */
    char *ist;         /* text of an inline string */
    size_t ist_len, ist_cap;
    /* the own tokenizer (expat only with Scanner(..., expat=True)) */
    int ready;         /* __init__ ran */
    int final_seen;    /* the last feed (final=True) was given: no more data */
    int bail;          /* the tokenizer met what it leaves to expat: feed returns RETRY */
    int phase;         /* 0 nothing read, 1 before the root, 2 inside it, 3 after it */
    char *carry;       /* a token cut by the end of the data, waiting for the rest */
    size_t carry_len, carry_cap;
    long long consumed;
    char *tb;          /* decoded text, or a tag's name and attributes */
    size_t tb_len, tb_cap;
    char *names;       /* the open elements' names, each ending in NUL */
    size_t names_len, names_cap;
    size_t *tops;      /* where each open element's name begins in names */
    size_t tops_cap, depth;
    /* a shared-strings part (Scanner(..., strings_limit=N)) or a styles part
     * (Scanner(..., styles_limit=N)) instead of a worksheet */
    int shared, in_t;
    long long styles_limit, n_styles;
    int in_cell_xfs;
    PyObject *format_ids;   /* numFmtId of each <xf> in <cellXfs>, as written */
    PyObject *format_codes; /* numFmtId -> formatCode of each <numFmt> */
    long long strings_limit;
    unsigned long *lens; /* characters of every <t> of each <si> */
    size_t n_si, lens_cap;
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

/* an element's name without its prefix: 'x:c' -> 'c' */
static const char *local_name(const char *name) {
    const char *colon = strrchr(name, ':');
    return colon ? colon + 1 : name;
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
        if (s->p) XML_StopParser(s->p, XML_FALSE);
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

/* rows[r-1][c-1] = v (v stolen); rows and cells in between are None. A
 * number in a date format (kind 1, 2) or an ISO date (3) is listed in dates
 * with the value itself: a later cell with the same reference replaces it,
 * and values() then leaves the entry out. Rows before 1 are no cells. */
static int put(Scanner *s, PyObject *v, int kind) {
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
    if (kind) {
        PyObject *at = Py_BuildValue("(LLiO)", r, c, kind, v);
        if (!at || PyList_Append(s->dates, at) < 0) { Py_XDECREF(at); Py_DECREF(v); return -1; }
        Py_DECREF(at);
    }
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

/* the s of a cell as calamine reads it (a 64-bit index): digits give the
 * index (-1 past any style table), anything else, or too many digits, 0 */
static long long style_index(const char *st) {
    size_t n = strlen(st);
    if (!digits_only(st, n)) return 0;
    unsigned long long v = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned d = (unsigned)(st[k] - '0');
        if (v > (ULLONG_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    return v > (unsigned long long)INT_MAX ? -1 : (long long)v;
}

/* the value of the cell being closed; NULL with no error: no value; None:
 * an empty string (blank, but the sheet reaches that far) */
static PyObject *cell_value(Scanner *s, const char *v, size_t n, int *kind) {
    *kind = 0;
    if (s->last == 3 && s->t != T_E) /* a formula after the value: calamine shows nothing (an */
        return NULL;                    /* error value the guard puts back, as below) */
    if (s->last == 2) { /* an inline string, whatever t says (calamine reads <is> so) */
        if (!s->ist_len) Py_RETURN_NONE;
        s->ist_len = unescape_x(s->ist, s->ist_len);
        return PyUnicode_DecodeUTF8(s->ist, (Py_ssize_t)s->ist_len, "replace");
    }
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
        return NULL; /* no <is> */
    case T_STR:
    case T_D: {
        if (!s->has_v) return NULL;
        if (!s->v_len) Py_RETURN_NONE;
        if (s->t == T_STR) s->v_len = unescape_x(s->v, s->v_len);
        else *kind = 3; /* t="d": ISO 8601 text, guard makes it a date where it is one */
        return PyUnicode_DecodeUTF8(s->v, (Py_ssize_t)s->v_len, "replace");
    }
    case T_E:
        if (!n) return NULL;
        return PyUnicode_DecodeUTF8(v, (Py_ssize_t)n, "replace");
    case T_B:
        if (!n) return NULL;
        return PyBool_FromLong(!(n == 1 && v[0] == '0'));
    default: { /* the text as written: calamine reads ' 5 ' as text, not 5 */
        if (!s->v_len) return NULL;
        PyObject *out = number(s->v, s->v_len);
        if (out && PyFloat_Check(out) && s->style >= 0 && s->style < PyBytes_GET_SIZE(s->styles))
            *kind = (unsigned char)PyBytes_AS_STRING(s->styles)[s->style];
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
    if (s->chars > s->char_room)
        halt(s, TEXT); /* before the value is made: no text past the budget is copied */
    if (s->strings && !s->stop) {
        int kind;
        PyObject *value = cell_value(s, v, n, &kind);
        if (value ? put(s, value, kind) < 0 : PyErr_Occurred() != NULL) {
            PyErr_Clear();
            halt(s, NO_MEMORY);
        }
    }
    if (s->chars > s->char_room)
        halt(s, TEXT);
}

/* the text of the <t> just closed (from t_start in ist) without the XML
 * spaces around it: a <t> without xml:space="preserve" (as calamine reads it) */
static void strip_t(Scanner *s) {
    char *a = s->ist + s->t_start, *b = s->ist + s->ist_len;
    while (a < b && is_space(*a)) a++;
    while (b > a && is_space(b[-1])) b--;
    memmove(s->ist + s->t_start, a, (size_t)(b - a));
    s->ist_len = s->t_start + (size_t)(b - a);
}

static void sheet_start(Scanner *s, const char *local, const char **atts) {
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
            s->in_is = s->has_v = s->in_rph = s->last = 0;
            s->style = -1; /* no s: no number format (calamine: never a date) */
            if (s->strings) {
                const char *st = attr(atts, "s");
                if (st) s->style = style_index(st);
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
        if (local[1] == 0) {
            s->cap = 1;
            s->v_len = 0;
            s->has_v |= s->open_cell;
            if (s->open_cell && !s->in_is) s->last = 1;
            return;
        }
        break;
    case 'f':
        if (local[1] == 0) {
            s->has_f = 1;
            s->cap = 0;
            if (s->open_cell && !s->in_is) s->last = 3;
            return;
        }
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
        if (local[1] == 's' && local[2] == 0) {
            if (s->open_cell && !s->in_is) {
                s->last = 2;
                s->ist_len = 0; /* two <is>: the last one (as calamine) */
            }
            s->in_is = s->open_cell;
            s->cap = 0;
            return;
        }
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

static void sheet_end(Scanner *s, const char *local) {
    if (local[0] == 't' && local[1] == 0) {
        if (s->cap == 2 && s->strings && !s->t_keep && s->ist_len > s->t_start) {
            /* a <t> without xml:space="preserve": spaces, tabs and line ends
             * around its text are not part of it (as calamine reads it) */
            strip_t(s);
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

static void sheet_text(Scanner *s, const char *text, int len) {
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
        if (s->strings && s->in_is && !s->in_rph && s->open_cell) {
            if (grow(&s->ist, &s->ist_cap, s->ist_len + (size_t)len) < 0) { halt(s, NO_MEMORY); return; }
            memcpy(s->ist + s->ist_len, text, (size_t)len);
            s->ist_len += (size_t)len;
        }
    }
}

/* ------------------------------------------------------------------ shared strings
 * guard._shared_string_lengths in C: the characters of every <t> of each <si>
 * (phonetic runs too: the budget counts high) and, with a list to fill, each
 * string as the readers show it (its runs without the phonetic guide <rPh>,
 * a <t> without xml:space="preserve" stripped of XML spaces, _xHHHH_ decoded). */

static int ss_flush(Scanner *s) { /* the string being read, into the list */
    s->ist_len = unescape_x(s->ist ? s->ist : "", s->ist_len);
    PyObject *text = PyUnicode_DecodeUTF8(s->ist ? s->ist : "", (Py_ssize_t)s->ist_len, "replace");
    s->ist_len = 0;
    if (!text || PyList_Append(s->strings, text) < 0) {
        Py_XDECREF(text);
        PyErr_Clear();
        halt(s, NO_MEMORY);
        return -1;
    }
    Py_DECREF(text);
    return 0;
}

static void ss_start(Scanner *s, const char *local, const char **atts) {
    if (strcmp(local, "si") == 0) {
        if (s->strings && s->n_si && ss_flush(s) < 0)
            return;
        if (s->n_si == s->lens_cap) {
            size_t cap = s->lens_cap ? s->lens_cap * 2 : 256;
            unsigned long *grown = PyMem_Realloc(s->lens, cap * sizeof *grown);
            if (!grown) { halt(s, NO_MEMORY); return; }
            s->lens = grown;
            s->lens_cap = cap;
        }
        s->lens[s->n_si++] = 0;
        if ((long long)s->n_si > s->strings_limit) {
            halt(s, STRINGS);
            return;
        }
    } else if (strcmp(local, "rPh") == 0)
        s->in_rph = 1;
    s->in_t = local[0] == 't' && local[1] == 0;
    if (s->in_t) {
        const char *space = attr(atts, "xml:space");
        s->t_keep = space && strcmp(space, "preserve") == 0;
        s->t_start = s->ist_len;
    }
}

static void ss_end(Scanner *s, const char *local) {
    if (s->in_t && !s->t_keep && s->ist_len > s->t_start) {
        strip_t(s);
    }
    s->in_t = 0;
    if (s->in_rph && strcmp(local, "rPh") == 0)
        s->in_rph = 0;
}

static void ss_text(Scanner *s, const char *text, int len) {
    if (!s->in_t || !s->n_si)
        return;
    unsigned long long n = (unsigned long long)codepoints(text, (size_t)len), had = s->lens[s->n_si - 1];
    s->lens[s->n_si - 1] = n > (unsigned long long)ULONG_MAX - had ? ULONG_MAX : (unsigned long)(had + n);
    if (s->strings && !s->in_rph) {
        if (grow(&s->ist, &s->ist_cap, s->ist_len + (size_t)len) < 0) { halt(s, NO_MEMORY); return; }
        memcpy(s->ist + s->ist_len, text, (size_t)len);
        s->ist_len += (size_t)len;
    }
}

/* ------------------------------------------------------------------ styles
 * guard._count_styles in C: the style records (the budget) and, where
 * values are read, each cell format's numFmtId and the custom format codes. */

static int is_style_record(const char *local) {
    static const char *records[] = {"xf", "font", "fill", "border", "numFmt", "dxf", "cellStyle"};
    for (size_t k = 0; k < sizeof records / sizeof records[0]; k++)
        if (strcmp(local, records[k]) == 0) return 1;
    return 0;
}

static void st_start(Scanner *s, const char *local, const char **atts) {
    if (is_style_record(local)) {
        if (++s->n_styles > s->styles_limit) {
            halt(s, STYLES);
            return;
        }
        if (!s->format_ids) return;
        int failed = 0;
        if (local[0] == 'x' && s->in_cell_xfs) {
            const char *id = attr(atts, "numFmtId");
            PyObject *text = PyUnicode_DecodeUTF8(id ? id : "0", (Py_ssize_t)strlen(id ? id : "0"), "replace");
            failed = !text || PyList_Append(s->format_ids, text) < 0;
            Py_XDECREF(text);
        } else if (local[0] == 'n') {
            const char *id = attr(atts, "numFmtId"), *code = attr(atts, "formatCode");
            PyObject *key = PyUnicode_DecodeUTF8(id ? id : "", (Py_ssize_t)strlen(id ? id : ""), "replace");
            PyObject *value = PyUnicode_DecodeUTF8(code ? code : "", (Py_ssize_t)strlen(code ? code : ""), "replace");
            failed = !key || !value || PyDict_SetItem(s->format_codes, key, value) < 0;
            Py_XDECREF(key);
            Py_XDECREF(value);
        }
        if (failed) {
            PyErr_Clear();
            halt(s, NO_MEMORY);
        }
    } else if (strcmp(local, "cellXfs") == 0)
        s->in_cell_xfs++;
}

static void st_end(Scanner *s, const char *local) {
    if (strcmp(local, "cellXfs") == 0)
        s->in_cell_xfs--;
}

/* The callbacks, for expat and the own tokenizer alike: after a stop no
 * element or text is looked at; each handler gets the element's local name
 * and the handlers of the part's kind run. */
static void XMLCALL ev_start(void *data, const XML_Char *name, const XML_Char **atts) {
    Scanner *s = (Scanner *)data;
    if (s->stop)
        return;
    const char *local = local_name(name);
    if (s->shared == SHEET) sheet_start(s, local, atts); else if (s->shared == SHARED) ss_start(s, local, atts); else st_start(s, local, atts);
}
static void XMLCALL ev_end(void *data, const XML_Char *name) {
    Scanner *s = (Scanner *)data;
    const char *local = local_name(name);
    if (s->shared == SHEET) sheet_end(s, local); else if (s->shared == SHARED) ss_end(s, local); else st_end(s, local);
}
static void XMLCALL ev_text(void *data, const XML_Char *text, int len) {
    Scanner *s = (Scanner *)data;
    if (s->stop)
        return;
    if (s->shared == SHEET) sheet_text(s, text, len); else if (s->shared == SHARED) ss_text(s, text, len);
}
static int wants_text(Scanner *s) { return s->shared == SHEET ? s->cap != 0 : s->shared == SHARED && s->in_t && s->n_si; }

/* ------------------------------------------------------------------ the own tokenizer
 *
 * Worksheet parts are plain XML: elements, attributes, text, the five
 * predefined entities and character references, UTF-8. expat was most of the
 * pass's time; this tokenizer reads exactly that subset several times faster
 * and calls the same handlers with the same arguments expat gives them
 * (element names as written, attribute values decoded and normalised, text
 * decoded). It checks everything it takes as expat checks it (UTF-8, the
 * characters XML allows, names, nesting, attribute syntax and duplicates,
 * "]]>" in text, nothing but spaces around the root). Whatever it does not
 * take — a comment, CDATA, a processing instruction, a DOCTYPE, an encoding
 * other than UTF-8, a name that is not ASCII, a carriage return inside a value
 * it keeps, a tag longer than CARRY_MAX, nesting deeper than MAX_DEPTH, or
 * anything that is not well-formed — ends it with RETRY before the handler of
 * that token runs, and guard reads the part again from its start with expat
 * (Scanner(..., expat=True)), which reads it or names the error. So no input
 * is read differently: only the common case is faster
 * (tests/test_sheetscan_tokenizer.py runs both on generated and mutated parts).
 */

#define CARRY_MAX (1 << 20)
#define MAX_DEPTH 1000
#define MAX_ATTS 64

/* text bytes that need a look: markup, references, "]]>", CR, controls, non-ASCII */
static unsigned char TEXT_SPECIAL[256];
/* name characters (ASCII only: 1 may start a name, 2 only continue one) */
static unsigned char NAME_CH[256];

static void tokenizer_tables(void) {
    for (int c = 0; c < 256; c++) {
        TEXT_SPECIAL[c] = (c < 0x20 && c != '\t' && c != '\n') || c >= 0x80 || c == '<' || c == '&' || c == '>' || c == ']';
        NAME_CH[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' ? 1
                   : (c >= '0' && c <= '9') || c == '.' || c == '-' ? 2 : 0;
    }
}

/* length of the UTF-8 sequence at p (2–4); 0 when it is not one XML allows
 * (overlong, surrogate, past U+10FFFF, U+FFFE, U+FFFF); -1 when it is cut by end */
static int utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; if (c == 0xE0) lo = 0xA0; else if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; if (c == 0xF0) lo = 0x90; else if (c == 0xF4) hi = 0x8F; }
    else return 0;
    for (int k = 1; k < n; k++) {
        if (p + k >= end) return -1;
        unsigned b = p[k];
        if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
    }
    if (n == 3 && c == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)) return 0;
    return n;
}

static int xml_char(unsigned long long v) {
    return v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD) || (v >= 0x10000 && v <= 0x10FFFF);
}

/* the reference at p ('&'): its UTF-8 in out (1–4 bytes) and its length in
 * *used; 0 when it is none expat reads without a DTD; -1 when cut by end */
static int reference(const unsigned char *p, const unsigned char *end, unsigned char *out, size_t *used) {
    const unsigned char *q = p + 1;
    size_t room = (size_t)(end - q);
    const unsigned char *semi = memchr(q, ';', room < 12 ? room : 12);
    if (!semi) return room < 12 ? -1 : 0;
    size_t n = (size_t)(semi - q);
    *used = n + 2;
    if (n >= 2 && q[0] == '#') {
        unsigned long long v = 0; /* 64 bits everywhere: a wrapped value would pass for a character */
        int hexa = q[1] == 'x';
        size_t k = hexa ? 2 : 1;
        if (k == n) return 0;
        for (; k < n; k++) {
            int d = hexa ? hex((char)q[k]) : is_digit((char)q[k]) ? q[k] - '0' : -1;
            if (d < 0) return 0;
            v = v * (hexa ? 16 : 10) + (unsigned long long)d; /* ≤ 10 digits: no overflow */
        }
        if (!xml_char(v)) return 0;
        if (v < 0x80) { out[0] = (unsigned char)v; return 1; }
        if (v < 0x800) { out[0] = (unsigned char)(0xC0 | (v >> 6)); out[1] = (unsigned char)(0x80 | (v & 0x3F)); return 2; }
        if (v < 0x10000) {
            out[0] = (unsigned char)(0xE0 | (v >> 12)); out[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3F)); out[2] = (unsigned char)(0x80 | (v & 0x3F));
            return 3;
        }
        out[0] = (unsigned char)(0xF0 | (v >> 18)); out[1] = (unsigned char)(0x80 | ((v >> 12) & 0x3F));
        out[2] = (unsigned char)(0x80 | ((v >> 6) & 0x3F)); out[3] = (unsigned char)(0x80 | (v & 0x3F));
        return 4;
    }
    static const struct { const char *name; size_t n; char ch; } named[] = {
        {"lt", 2, '<'}, {"gt", 2, '>'}, {"amp", 3, '&'}, {"quot", 4, '"'}, {"apos", 4, '\''}};
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++)
        if (n == named[k].n && memcmp(q, named[k].name, n) == 0) { out[0] = (unsigned char)named[k].ch; return 1; }
    return 0;
}

static void bail(Scanner *s) { s->bail = 1; }

static int put_bytes(Scanner *s, const void *b, size_t n) {
    if (grow(&s->tb, &s->tb_cap, s->tb_len + n) < 0) { halt(s, NO_MEMORY); return -1; }
    memcpy(s->tb + s->tb_len, b, n);
    s->tb_len += n;
    return 0;
}

enum { CUT = -1, BAIL = -2 }; /* a token cut by the end of the data; a token the tokenizer leaves to expat */

/* text from p up to '<': checked, decoded, handed to the text handler where it
 * keeps it. Returns where it stopped: at '<', or at a cut reference, UTF-8
 * sequence or "]]" the next data completes (not final). NULL: bail. */
static const unsigned char *fast_text(Scanner *s, const unsigned char *p, const unsigned char *end, int final) {
    const unsigned char *run = p, *seg = p, *stop = end;
    int keep = wants_text(s); /* the handlers use text only inside <v> or <t> */
    s->tb_len = 0;
    int copied = 0;
    while (p < end) {
        unsigned char ch = *p;
        if (!TEXT_SPECIAL[ch]) { p++; continue; }
        if (ch == '<') { stop = p; break; }
        if (ch >= 0x80) {
            int k = utf8_seq(p, end);
            if (k > 0) { p += k; continue; }
            if (k < 0 && !final) { stop = p; break; }
            return NULL;
        }
        if (ch == '&') {
            unsigned char out[4];
            size_t used = 0;
            int k = reference(p, end, out, &used);
            if (k < 0 && !final) { stop = p; break; }
            if (k <= 0) return NULL;
            if (keep && (put_bytes(s, seg, (size_t)(p - seg)) < 0 || put_bytes(s, out, (size_t)k) < 0)) return NULL;
            copied = 1;
            p += used;
            seg = p;
            continue;
        }
        if (ch == '>') {
            if (p - run >= 2 && p[-1] == ']' && p[-2] == ']') return NULL;
            p++;
            continue;
        }
        if (ch == ']') { p++; continue; }
        if (ch == '\r' && !keep) { p++; continue; } /* a line end between elements: expat makes it \n, nobody keeps it */
        return NULL; /* another control character, or CR in kept text */
    }
    if (p == end && !final) /* keep back a trailing "]]" the next data may close with '>' */
        while (stop > run && stop > end - 2 && stop[-1] == ']') stop--;
    if (keep && stop > run) {
        if (copied) {
            if (put_bytes(s, seg, (size_t)(stop - seg)) < 0) return NULL;
            ev_text(s, s->tb, (int)s->tb_len);
        } else
            ev_text(s, (const char *)run, (int)(stop - run));
    }
    return stop;
}

static int is_ws(unsigned char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

/* a tag at p ('<'): returns its length, CUT or BAIL; runs its handlers */
static long fast_tag(Scanner *s, const unsigned char *p, const unsigned char *end) {
    const unsigned char *q = p + 1;
    if (q >= end) return CUT;
    if (*q == '/') { /* end tag */
        const unsigned char *n0 = ++q;
        if (q >= end) return CUT;
        if (NAME_CH[*q] != 1) return BAIL;
        while (q < end && NAME_CH[*q]) q++;
        size_t n = (size_t)(q - n0);
        while (q < end && is_ws(*q)) q++;
        if (q >= end) return CUT;
        if (*q != '>') return BAIL;
        if (s->depth == 0) return BAIL;
        size_t top = s->tops[s->depth - 1];
        if (s->names_len - top - 1 != n || memcmp(s->names + top, n0, n) != 0) return BAIL;
        ev_end(s, s->names + top);
        s->depth--;
        s->names_len = top;
        if (s->depth == 0) s->phase = 3;
        return (long)(q + 1 - p);
    }
    if (NAME_CH[*q] != 1) return BAIL; /* '!' (comment, CDATA, DOCTYPE), '?' (PI), non-ASCII name */
    const unsigned char *n0 = q;
    while (q < end && NAME_CH[*q]) q++;
    if (q >= end) return CUT;
    s->tb_len = 0;
    size_t offs[2 * MAX_ATTS + 1];
    int natts = 0, empty = 0;
    if (put_bytes(s, n0, (size_t)(q - n0)) < 0 || put_bytes(s, "", 1) < 0) return BAIL;
    for (;;) {
        int spaced = 0;
        while (q < end && is_ws(*q)) { q++; spaced = 1; }
        if (q >= end) return CUT;
        if (*q == '>') { q++; break; }
        if (*q == '/') {
            if (q + 1 >= end) return CUT;
            if (q[1] != '>') return BAIL;
            q += 2;
            empty = 1;
            break;
        }
        if (!spaced || NAME_CH[*q] != 1 || natts == MAX_ATTS) return BAIL;
        const unsigned char *a0 = q;
        while (q < end && NAME_CH[*q]) q++;
        size_t an = (size_t)(q - a0);
        while (q < end && is_ws(*q)) q++;
        if (q >= end) return CUT;
        if (*q != '=') return BAIL;
        q++;
        while (q < end && is_ws(*q)) q++;
        if (q >= end) return CUT;
        unsigned char quote = *q++;
        if (quote != '"' && quote != '\'') return BAIL;
        offs[2 * natts] = s->tb_len;
        if (put_bytes(s, a0, an) < 0 || put_bytes(s, "", 1) < 0) return BAIL;
        offs[2 * natts + 1] = s->tb_len;
        const unsigned char *seg = q;
        for (;;) {
            if (q >= end) return CUT;
            unsigned char ch = *q;
            if (ch == quote) break;
            if (ch >= 0x20 && ch < 0x80 && ch != '<' && ch != '&') { q++; continue; }
            if (put_bytes(s, seg, (size_t)(q - seg)) < 0) return BAIL;
            if (ch >= 0x80) {
                int k = utf8_seq(q, end);
                if (k < 0) return CUT;
                if (k == 0) return BAIL;
                seg = q;
                q += k;
                continue;
            }
            if (ch == '\t' || ch == '\n') { /* attribute-value normalisation */
                if (put_bytes(s, " ", 1) < 0) return BAIL;
                seg = ++q;
                continue;
            }
            if (ch == '&') {
                unsigned char out[4];
                size_t used = 0;
                int k = reference(q, end, out, &used);
                if (k < 0) return CUT;
                if (k == 0 || put_bytes(s, out, (size_t)k) < 0) return BAIL;
                q += used;
                seg = q;
                continue;
            }
            return BAIL; /* '<', CR, another control character */
        }
        if (put_bytes(s, seg, (size_t)(q - seg)) < 0 || put_bytes(s, "", 1) < 0) return BAIL;
        q++;
        natts++;
    }
    const char *atts[2 * MAX_ATTS + 1];
    for (int k = 0; k < 2 * natts; k++) atts[k] = s->tb + offs[k];
    atts[2 * natts] = NULL;
    for (int i = 0; i < natts; i++)
        for (int j = i + 1; j < natts; j++)
            if (strcmp(atts[2 * i], atts[2 * j]) == 0) return BAIL; /* a duplicate attribute */
    if (!empty && s->depth == MAX_DEPTH) return BAIL;
    if (s->phase == 3) return BAIL; /* a second root */
    s->phase = 2;
    ev_start(s, s->tb, atts);
    if (empty) {
        if (!s->stop) ev_end(s, s->tb);
        if (s->depth == 0) s->phase = 3;
    } else {
        size_t n = strlen(s->tb) + 1;
        if (grow(&s->names, &s->names_cap, s->names_len + n) < 0) { halt(s, NO_MEMORY); return BAIL; }
        if (s->depth == s->tops_cap) {
            size_t cap = s->tops_cap ? s->tops_cap * 2 : 16;
            size_t *grown = PyMem_Realloc(s->tops, cap * sizeof *grown);
            if (!grown) { halt(s, NO_MEMORY); return BAIL; }
            s->tops = grown;
            s->tops_cap = cap;
        }
        s->tops[s->depth++] = s->names_len;
        memcpy(s->names + s->names_len, s->tb, n);
        s->names_len += n;
    }
    return (long)(q - p);
}

/* the XML declaration at p ("<?xml"): version 1.0, encoding UTF-8 if given,
 * standalone yes/no if given; its length, CUT or BAIL */
static long fast_decl(const unsigned char *p, const unsigned char *end) {
    size_t room = (size_t)(end - p);
    const unsigned char *close = NULL;
    for (size_t k = 5; k + 1 < room && k < 512; k++)
        if (p[k] == '?' && p[k + 1] == '>') { close = p + k; break; }
    if (!close) return room < 512 ? CUT : BAIL;
    const unsigned char *q = p + 5;
    static const char *keys[] = {"version", "encoding", "standalone"};
    int seen = 0;
    while (q < close) {
        if (!is_ws(*q)) return BAIL;
        while (q < close && is_ws(*q)) q++;
        if (q == close) break;
        int key = -1;
        for (int k = seen; k < 3; k++) {
            size_t n = strlen(keys[k]);
            if ((size_t)(close - q) > n && memcmp(q, keys[k], n) == 0 && (q[n] == '=' || is_ws(q[n]))) { key = k; q += n; break; }
        }
        if (key < 0 || (key > 0 && seen == 0)) return BAIL; /* version comes first */
        seen = key + 1;
        while (q < close && is_ws(*q)) q++;
        if (q == close || *q++ != '=') return BAIL;
        while (q < close && is_ws(*q)) q++;
        if (q == close || (*q != '"' && *q != '\'')) return BAIL;
        unsigned char quote = *q++;
        const unsigned char *v = q;
        while (q < close && *q != quote) q++;
        if (q == close) return BAIL;
        size_t n = (size_t)(q - v);
        q++;
        if (key == 0 && !(n == 3 && memcmp(v, "1.0", 3) == 0)) return BAIL;
        if (key == 1 && !(n == 5 && (v[0] | 32) == 'u' && (v[1] | 32) == 't' && (v[2] | 32) == 'f' && v[3] == '-' && v[4] == '8')) return BAIL;
        if (key == 2 && !((n == 3 && memcmp(v, "yes", 3) == 0) || (n == 2 && memcmp(v, "no", 2) == 0))) return BAIL;
    }
    if (!seen) return BAIL;
    return (long)(close + 2 - p);
}

/* tokenizes buf; returns the bytes consumed (the rest is a token the next
 * data completes); sets s->bail when the part is left to expat */
static size_t fast_run(Scanner *s, const unsigned char *buf, size_t n, int final) {
    const unsigned char *p = buf, *end = buf + n;
    if (s->phase == 0) {
        if (n < 8 && !final) return 0;
        const unsigned char *q = p;
        if (n >= 3 && q[0] == 0xEF && q[1] == 0xBB && q[2] == 0xBF) q += 3;
        if ((size_t)(end - q) >= 6 && memcmp(q, "<?xml", 5) == 0 && is_ws(q[5])) {
            long k = fast_decl(q, end);
            if (k == CUT && !final) return 0;
            if (k < 0) { bail(s); return 0; }
            q += k;
        }
        p = q;
        s->phase = 1;
    }
    while (p < end && !s->stop) {
        if (s->phase == 2) {
            if (*p == '<') {
                long k = fast_tag(s, p, end);
                if (k == CUT) break;
                if (k == BAIL) { bail(s); break; }
                p += k;
            } else {
                const unsigned char *q = fast_text(s, p, end, final);
                if (!q) { bail(s); break; }
                if (q == p) break; /* only a cut token */
                p = q;
            }
        } else { /* before or after the root: only spaces, then (before) the root */
            while (p < end && is_ws(*p)) p++;
            if (p == end) break;
            if (s->phase == 3 || *p != '<') { bail(s); break; }
            long k = fast_tag(s, p, end);
            if (k == CUT) break;
            if (k == BAIL) { bail(s); break; }
            p += k;
        }
    }
    if (final && !s->stop && !s->bail && (p != end || s->phase != 3))
        bail(s);
    return (size_t)(p - buf);
}

/* feed in the own tokenizer's mode: a token cut by the end of the data waits in carry */
static void fast_feed(Scanner *s, const char *data, size_t n, int final) {
    const unsigned char *buf = (const unsigned char *)data;
    size_t len = n;
    if (s->carry_len) {
        if (grow(&s->carry, &s->carry_cap, s->carry_len + n) < 0) { halt(s, NO_MEMORY); return; }
        memcpy(s->carry + s->carry_len, data, n);
        s->carry_len += n;
        buf = (const unsigned char *)s->carry;
        len = s->carry_len;
    }
    size_t used = fast_run(s, buf, len, final);
    s->consumed += (long long)used;
    if (s->stop || s->bail) return;
    size_t rest = len - used;
    if (rest > CARRY_MAX) { bail(s); return; }
    if (buf == (const unsigned char *)s->carry) {
        memmove(s->carry, s->carry + used, rest);
    } else if (rest) {
        if (grow(&s->carry, &s->carry_cap, rest) < 0) { halt(s, NO_MEMORY); return; }
        memcpy(s->carry, buf + used, rest);
    }
    s->carry_len = rest;
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
    int use_expat = 0;
    long long strings_limit = -1, styles_limit = -1;
    static char *names[] = {"sst", "cell_room", "char_room", "strings", "styles", "expat", "strings_limit", "styles_limit", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OLL|OOp$LL", names, &sst, &cell_room, &char_room, &strings, &styles, &use_expat,
                                     &strings_limit, &styles_limit))
        return -1;
    if (strings != Py_None && (!PyList_Check(strings) || !PyBytes_Check(styles))) {
        PyErr_SetString(PyExc_TypeError, "strings must be a list and styles bytes");
        return -1;
    }
    if (s->ready || s->has_sst) {
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
    s->shared = strings_limit >= 0 ? SHARED : styles_limit >= 0 ? STYLESHEET : SHEET;
    s->strings_limit = strings_limit;
    s->styles_limit = styles_limit;
    if (s->shared == STYLESHEET && strings != Py_None) { /* values are read: keep the number formats */
        s->format_ids = PyList_New(0);
        s->format_codes = PyDict_New();
        if (!s->format_ids || !s->format_codes)
            return -1;
    }
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
    if (!use_expat) {
        s->ready = 1;
        return 0;
    }
    s->p = XML_ParserCreate(NULL);
    if (!s->p) {
        PyErr_NoMemory();
        return -1;
    }
    s->ready = 1;
    XML_SetUserData(s->p, s);
    XML_SetStartElementHandler(s->p, ev_start);
    XML_SetCharacterDataHandler(s->p, ev_text);
    XML_SetEndElementHandler(s->p, ev_end);
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
    PyMem_Free(s->carry);
    PyMem_Free(s->tb);
    PyMem_Free(s->names);
    PyMem_Free(s->tops);
    PyMem_Free(s->lens);
    Py_XDECREF(s->format_ids);
    Py_XDECREF(s->format_codes);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyObject *Scanner_feed(Scanner *s, PyObject *args) {
    Py_buffer data;
    int final;
    if (!PyArg_ParseTuple(args, "y*p", &data, &final))
        return NULL;
    if (!s->ready) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_RuntimeError, "Scanner not initialised");
        return NULL;
    }
    if (s->busy || s->finished || s->final_seen) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_RuntimeError, s->busy ? "Scanner.feed is not re-entrant"
                        : s->finished ? "Scanner.feed after finish" : "Scanner.feed after the final feed");
        return NULL;
    }
    s->final_seen = final;
    if (s->stop) {
        PyBuffer_Release(&data);
        return PyLong_FromLong(s->stop);
    }
    s->busy = 1;
    const char *at = data.buf;
    Py_ssize_t rest = data.len;
    int failed = 0; /* expat found bad XML, or the own tokenizer leaves the part to expat */
    do { /* in slices of at most 1 GiB: expat takes an int length, and text lengths stay ints */
        Py_ssize_t n = rest > (1 << 30) ? (1 << 30) : rest;
        rest -= n;
        int last = final && rest == 0;
        if (s->p)
            failed = XML_Parse(s->p, at, (int)n, last) != XML_STATUS_OK;
        else {
            fast_feed(s, at, (size_t)n, last);
            failed = s->bail;
        }
        at += n;
    } while (rest > 0 && !failed && !s->stop);
    s->busy = 0;
    PyBuffer_Release(&data);
    if (s->stop == NO_MEMORY)
        return PyErr_NoMemory();
    if (s->stop)
        return PyLong_FromLong(s->stop);
    if (failed) {
        s->stop = s->p ? BAD_XML : RETRY;
        return PyLong_FromLong(s->stop);
    }
    return PyLong_FromLong(GO);
}

static PyObject *Scanner_finish(Scanner *s, PyObject *unused) {
    (void)unused;
    if (s->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner.finish while feeding");
        return NULL;
    }
    int first = !s->finished;
    s->finished = 1;
    if (!s->stop && s->open_cell)
        close_cell(s);
    if (first && !s->stop && s->shared == SHARED && s->strings && s->n_si)
        ss_flush(s); /* the last string */
    if (s->stop == NO_MEMORY)
        return PyErr_NoMemory();
    return PyLong_FromLong(s->stop == TEXT ? TEXT : GO);
}

/* once, in values(): every row a list as wide as the widest; dates only
 * where the cell still holds the value they were listed with */
static int settle_values(Scanner *s) {
    Py_ssize_t n = PyList_GET_SIZE(s->rows);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *row = PyList_GET_ITEM(s->rows, i);
        if (row == Py_None) {
            row = PyList_New(0);
            if (!row) return -1;
            PyList_SetItem(s->rows, i, row);
        }
        for (Py_ssize_t m = PyList_GET_SIZE(row); m < s->width; m++)
            if (PyList_Append(row, Py_None) < 0) return -1;
    }
    PyObject *kept = PyList_New(0);
    if (!kept) return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(s->dates); i++) {
        PyObject *at = PyList_GET_ITEM(s->dates, i);
        long long r = PyLong_AsLongLong(PyTuple_GET_ITEM(at, 0)), c = PyLong_AsLongLong(PyTuple_GET_ITEM(at, 1));
        PyObject *row = PyList_GET_ITEM(s->rows, r - 1); /* put stored it: r, c are inside */
        if (PyList_GET_ITEM(row, c - 1) != PyTuple_GET_ITEM(at, 3)) continue; /* replaced by a later cell */
        PyObject *three = PyTuple_GetSlice(at, 0, 3);
        if (!three || PyList_Append(kept, three) < 0) { Py_XDECREF(three); Py_DECREF(kept); return -1; }
        Py_DECREF(three);
    }
    Py_SETREF(s->dates, kept);
    s->done = 1;
    return 0;
}

static PyObject *Scanner_values(Scanner *s, PyObject *unused) {
    (void)unused;
    if (!s->rows) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner made without strings: no values");
        return NULL;
    }
    if (s->stop || s->busy || !s->finished) {
        PyErr_SetString(PyExc_RuntimeError, s->stop ? "Scanner stopped: no values" : s->busy ? "Scanner busy" : "Scanner.values before finish");
        return NULL;
    }
    if (!s->done) {
        s->busy = 1; /* the allocations below may run a finaliser that calls back */
        int failed = settle_values(s) < 0;
        s->busy = 0;
        if (failed) return NULL;
    }
    return Py_BuildValue("(OO)", s->rows, s->dates);
}

static PyObject *Scanner_lengths(Scanner *s, PyObject *unused) {
    (void)unused;
    if (s->shared != SHARED || s->busy || !s->finished || s->stop) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner.lengths: only after finish() of a shared-strings part that was not stopped");
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)s->lens, (Py_ssize_t)(s->n_si * sizeof *s->lens));
}

static PyObject *Scanner_formats(Scanner *s, PyObject *unused) {
    (void)unused;
    if (s->shared != STYLESHEET || s->busy || !s->finished || s->stop) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner.formats: only after finish() of a styles part that was not stopped");
        return NULL;
    }
    return Py_BuildValue("(LOO)", s->n_styles, s->format_ids ? s->format_ids : Py_None, s->format_codes ? s->format_codes : Py_None);
}

static PyObject *Scanner_state(Scanner *s, PyObject *unused) {
    (void)unused;
    return Py_BuildValue("(LLLLLLL)", s->max_r, s->max_c, s->merged, s->present, s->chars, s->r, s->c);
}

static PyObject *Scanner_position(Scanner *s, PyObject *unused) {
    (void)unused;
    return PyLong_FromLongLong(s->p ? (long long)XML_GetCurrentByteIndex(s->p) : s->ready ? s->consumed : -1);
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
    {"lengths", (PyCFunction)Scanner_lengths, METH_NOARGS, "a shared-strings part: the characters of each string, as array('L') bytes"},
    {"formats", (PyCFunction)Scanner_formats, METH_NOARGS, "a styles part: (records, numFmtId of each cell format, {numFmtId: formatCode})"},
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
    tokenizer_tables();
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
