// tmpdir.h — a fresh directory per test case under $TMPDIR (else /tmp),
// and its removal with all it holds: for the tests that open a real store.
// Header only; not thread-safe (cmocka runs one case at a time).
#ifndef SJE_TEST_TMPDIR_H
#define SJE_TEST_TMPDIR_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// sje_test_tmpdir_make makes <$TMPDIR>/<name>-XXXXXX into dir (len
// bytes); false when it cannot.
static inline bool
sje_test_tmpdir_make(char *dir, size_t len, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, len, "%s/%s-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", name);
	return mkdtemp(dir) != NULL;
}

// sje_test_tmpdir_remove removes dir and everything below it; false (with
// a line on stderr) when something stays.
static inline bool
sje_test_tmpdir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0) {
				continue;
			}
			char        path[1024];
			struct stat sb;
			int         n = snprintf(
			            path, sizeof(path), "%s/%s", dir, e->d_name);
			if (n < 0 || (size_t) n >= sizeof(path)) {
				continue; // rmdir then says what stays
			}
			if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
				(void) sje_test_tmpdir_remove(path);
			} else {
				(void) unlink(path);
			}
		}
		closedir(d);
	}
	if (rmdir(dir) != 0) {
		fprintf(stderr, "teardown: cannot remove %s\n", dir);
		return false;
	}
	return true;
}

#endif // SJE_TEST_TMPDIR_H
