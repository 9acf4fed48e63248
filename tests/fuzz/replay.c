/* Replays fuzz inputs through LLVMFuzzerTestOneInput with any compiler, as a TAP test:
 * one "ok" per file. Arguments are files or directories; with none, the corpus of the
 * target this was linked with, $TOP_SRCDIR/tests/fuzz/corpus/<name>, where <name> is
 * the program name less its "replay_" prefix (replay_form replays corpus/form). */
#include "config.h"

#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

/* Inputs larger than this are not corpus material. */
#define REPLAY_MAX (1024u * 1024u)

struct list {
	char **v;
	size_t n, cap;
};

static int
list_add(struct list *l, const char *dir, const char *name)
{
	size_t len = (dir != NULL ? strlen(dir) + 1 : 0) + strlen(name) + 1;
	char *p, **nv;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((nv = realloc(l->v, l->cap * sizeof(*nv))) == NULL)
			return -1;
		l->v = nv;
	}
	if ((p = malloc(len)) == NULL)
		return -1;
	snprintf(p, len, "%s%s%s", dir != NULL ? dir : "", dir != NULL ? "/" : "", name);
	l->v[l->n++] = p;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add path, or every regular file in it (sorted, dot files skipped) when it is a
 * directory. */
static int
collect(struct list *l, const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	size_t first = l->n;
	int rc = -1;

	if (stat(path, &st) != 0) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return list_add(l, NULL, path);
	if ((d = opendir(path)) == NULL) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (list_add(l, path, de->d_name) != 0)
			goto out;
	}
	qsort(l->v + first, l->n - first, sizeof(*l->v), cmp_str);
	rc = 0;
out:
	closedir(d);
	return rc;
}

/* Read a whole file into a new buffer of exactly its size (so ASan sees overreads). */
static int
read_file(const char *path, uint8_t **out, size_t *outlen)
{
	FILE *f = NULL;
	uint8_t *p = NULL;
	long n;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    (size_t)n > REPLAY_MAX || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	if ((p = malloc(n > 0 ? (size_t)n : 1)) == NULL)
		goto out;
	if (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n)
		goto out;
	*out = p;
	*outlen = (size_t)n;
	p = NULL;
	rc = 0;
out:
	free(p);
	if (f != NULL)
		fclose(f);
	return rc;
}

int
main(int argc, char **argv)
{
	struct list files = {NULL, 0, 0};
	const char *base, *top = getenv("TOP_SRCDIR");
	char dflt[4096];
	size_t i;
	int a, failed = 0;

	if (argc > 1) {
		for (a = 1; a < argc; a++) {
			if (collect(&files, argv[a]) != 0)
				return 1;
		}
	} else {
		base = strrchr(argv[0], '/');
		base = base != NULL ? base + 1 : argv[0];
		if (strncmp(base, "replay_", 7) == 0)
			base += 7;
		snprintf(dflt, sizeof(dflt), "%s/tests/fuzz/corpus/%s", top != NULL ? top : ".", base);
		if (collect(&files, dflt) != 0)
			return 1;
	}
	printf("1..%zu\n", files.n);
	for (i = 0; i < files.n; i++) {
		const char *name = files.v[i];
		uint8_t *data;
		size_t len;

		/* Name inputs relative to the source tree, which is where they live. */
		if (top != NULL && strncmp(name, top, strlen(top)) == 0 && name[strlen(top)] == '/')
			name += strlen(top) + 1;

		if (read_file(files.v[i], &data, &len) != 0) {
			printf("not ok %zu - %s: cannot read\n", i + 1, name);
			failed = 1;
			continue;
		}
		/* Flush first: a crash inside names the input in the log. */
		printf("# %s (%zu bytes)\n", name, len);
		fflush(stdout);
		LLVMFuzzerTestOneInput(data, len);
		printf("ok %zu - %s\n", i + 1, name);
		free(data);
	}
	for (i = 0; i < files.n; i++)
		free(files.v[i]);
	free(files.v);
	return failed;
}
