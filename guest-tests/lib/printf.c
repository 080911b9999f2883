// SPDX-License-Identifier: Apache-2.0
/*
 * A small vsnprintf: enough for test messages, no floating point.
 */
#include <stdbool.h>
#include <stdint.h>

#include "printf.h"
#include "serial.h"

#define PRINTF_BUF	512

struct out {
	char *p;
	char *end;
	int len;
};

struct spec {
	bool left;
	bool zero;
	bool alt;
	int width;
	int prec;
	int lng;		/* -2 hh, -1 h, 0 int, 1 long, 2 long long */
};

static void put(struct out *o, char c)
{
	if (o->p < o->end)
		*o->p++ = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void put_str(struct out *o, const struct spec *sp, const char *s)
{
	int n = 0;

	if (!s)
		s = "(null)";
	while (s[n] && (sp->prec < 0 || n < sp->prec))
		n++;
	if (!sp->left)
		pad(o, ' ', sp->width - n);
	for (int i = 0; i < n; i++)
		put(o, s[i]);
	if (sp->left)
		pad(o, ' ', sp->width - n);
}

static void put_num(struct out *o, const struct spec *sp, uint64_t v,
		    bool neg, int base, bool upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, plen = prefix ? 2 : 0;
	int len;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	len = n + plen + (neg ? 1 : 0);
	if (!sp->left && !sp->zero)
		pad(o, ' ', sp->width - len);
	if (neg)
		put(o, '-');
	if (prefix) {
		put(o, prefix[0]);
		put(o, prefix[1]);
	}
	if (!sp->left && sp->zero)
		pad(o, '0', sp->width - len);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, ' ', sp->width - len);
}

/* Parses flags, width, precision and length; returns the conversion. */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '#')
			sp->alt = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		sp->prec = 0;
		for (f++; *f >= '0' && *f <= '9'; f++)
			sp->prec = sp->prec * 10 + (*f - '0');
	}
	for (;; f++) {
		if (*f == 'l' || *f == 'z')
			sp->lng++;
		else if (*f == 'h')
			sp->lng--;
		else
			break;
	}
	return f;
}

static uint64_t get_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->lng >= 1)
		return va_arg(*ap, unsigned long);
	if (sp->lng == -1)
		return (unsigned short)va_arg(*ap, unsigned int);
	if (sp->lng <= -2)
		return (unsigned char)va_arg(*ap, unsigned int);
	return va_arg(*ap, unsigned int);
}

static int64_t get_signed(const struct spec *sp, va_list *ap)
{
	if (sp->lng >= 1)
		return va_arg(*ap, long);
	if (sp->lng == -1)
		return (short)va_arg(*ap, int);
	if (sp->lng <= -2)
		return (signed char)va_arg(*ap, int);
	return va_arg(*ap, int);
}

static void convert(struct out *o, struct spec *sp, char c, va_list *ap)
{
	int64_t s;

	switch (c) {
	case 'd':
	case 'i':
		s = get_signed(sp, ap);
		put_num(o, sp, s < 0 ? -(uint64_t)s : (uint64_t)s, s < 0, 10,
			false, NULL);
		break;
	case 'u':
		put_num(o, sp, get_unsigned(sp, ap), false, 10, false, NULL);
		break;
	case 'x':
	case 'X':
		put_num(o, sp, get_unsigned(sp, ap), false, 16, c == 'X',
			sp->alt ? "0x" : NULL);
		break;
	case 'p':
		put_num(o, sp, (uintptr_t)va_arg(*ap, void *), false, 16,
			false, "0x");
		break;
	case 's':
		put_str(o, sp, va_arg(*ap, const char *));
		break;
	case 'c':
		put(o, (char)va_arg(*ap, int));
		break;
	default:
		put(o, '%');
		if (c)
			put(o, c);
		break;
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, buf + (size ? size - 1 : 0), 0 };
	struct spec sp;
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &aq);
		convert(&o, &sp, *fmt, &aq);
		if (*fmt)
			fmt++;
	}
	va_end(aq);
	if (size)
		*o.p = '\0';
	return o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *fmt, va_list ap)
{
	char buf[PRINTF_BUF];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	serial_lock();
	serial_puts(buf);
	serial_unlock();
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void printf_unlocked(const char *fmt, ...)
{
	char buf[PRINTF_BUF];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial_puts(buf);
}
