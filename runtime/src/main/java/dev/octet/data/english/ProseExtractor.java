package dev.octet.data.english;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Turns a file's markup into paragraphs of English prose. HTML loses its tags, and with them scripts, styles,
 * preformatted code, navigation, headers and footers; plain text (text, reStructuredText, POD, Markdown) loses
 * its markup lines. A paragraph's lines are joined by single spaces, and only paragraphs that read as English
 * sentences are kept ({@link #isProse}): code, tables, indexes and link lists fall away.
 */
public final class ProseExtractor {
    private ProseExtractor() {}

    /** Whole elements dropped from HTML, content and all. */
    private static final Set<String> SKIPPED = Set.of("script", "style", "pre", "nav", "header", "footer", "head", "noscript",
            "svg", "math", "textarea", "select", "button", "form");
    /** Elements that end a paragraph. */
    private static final Set<String> BLOCKS = Set.of("p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4",
            "h5", "h6", "tr", "td", "th", "table", "thead", "tbody", "blockquote", "section", "article", "aside", "hr", "body",
            "html", "main", "figure", "figcaption", "caption", "center", "title");
    /** Frequent English function words: prose has many, code and tables few. */
    private static final Set<String> FUNCTION_WORDS = Set.of("the", "a", "an", "of", "to", "in", "is", "and", "for", "that", "this",
            "it", "be", "are", "with", "as", "on", "by", "or", "not", "can", "from", "at", "which", "you", "if", "was", "he",
            "his", "but", "have", "has", "will", "when", "they", "their", "its", "we", "all", "there", "so", "no", "one", "been",
            "would", "more", "these", "into", "than", "other", "only", "also", "may", "should", "must", "i", "my");

    /** The paragraphs of an HTML page. */
    public static List<String> html(String html) {
        StringBuilder text = new StringBuilder(html.length() / 2);
        int i = 0;
        int n = html.length();
        String skipping = null;
        int skipDepth = 0;
        while (i < n) {
            char c = html.charAt(i);
            if (c != '<') {
                if (skipping == null) {
                    text.append(c);
                }
                i++;
                continue;
            }
            if (html.startsWith("<!--", i)) {
                int end = html.indexOf("-->", i + 4);
                i = end < 0 ? n : end + 3;
                continue;
            }
            int end = html.indexOf('>', i + 1);
            if (end < 0) {
                break;
            }
            String name = tagName(html, i + 1, end);
            boolean closing = i + 1 < n && html.charAt(i + 1) == '/';
            boolean selfClosing = html.charAt(end - 1) == '/';
            i = end + 1;
            if (name.isEmpty()) {
                continue;
            }
            if (skipping != null) {
                if (name.equals(skipping)) {
                    skipDepth += closing ? -1 : selfClosing ? 0 : 1;
                    if (skipDepth == 0) {
                        skipping = null;
                        text.append("\n\n");
                    }
                }
                continue;
            }
            if (!closing && !selfClosing && SKIPPED.contains(name)) {
                skipping = name;
                skipDepth = 1;
                continue;
            }
            if (BLOCKS.contains(name)) {
                text.append("\n\n");
            }
        }
        return paragraphs(decodeEntities(text.toString()), false);
    }

    private static String tagName(String html, int from, int end) {
        int i = from;
        if (i < end && html.charAt(i) == '/') {
            i++;
        }
        int start = i;
        while (i < end && (Character.isLetterOrDigit(html.charAt(i)))) {
            i++;
        }
        return html.substring(start, i).toLowerCase(Locale.ROOT);
    }

    /** The paragraphs of plain text (text, reStructuredText, POD, Markdown): runs of lines between empty lines. */
    public static List<String> plain(String text) {
        return paragraphs(text, true);
    }

    /**
     * Project Gutenberg texts carry a licence header and footer around the book: only what lies between the
     * "*** START OF" and "*** END OF" lines is kept. Text without those lines comes back as it was.
     */
    public static String stripGutenberg(String text) {
        int start = text.indexOf("*** START OF");
        if (start >= 0) {
            int lineEnd = text.indexOf('\n', start);
            text = lineEnd < 0 ? "" : text.substring(lineEnd + 1);
        }
        int end = text.indexOf("*** END OF");
        if (end >= 0) {
            text = text.substring(0, end);
        }
        return text;
    }

    private static List<String> paragraphs(String text, boolean markupLines) {
        List<String> out = new ArrayList<>();
        StringBuilder paragraph = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            String t = line.strip();
            if (t.isEmpty()) {
                flush(paragraph, out);
                continue;
            }
            if (markupLines) {
                if (isMarkupLine(t)) {
                    flush(paragraph, out);
                    continue;
                }
                if (Character.isWhitespace(line.charAt(0)) && paragraph.isEmpty() && looksLikeCode(t)) {
                    continue;
                }
            }
            if (!paragraph.isEmpty()) {
                paragraph.append(' ');
            }
            paragraph.append(t);
        }
        flush(paragraph, out);
        return out;
    }

    /** Underlines, directives and POD commands: lines that only shape the text. */
    private static boolean isMarkupLine(String t) {
        if (t.startsWith("..") || t.startsWith("=") || t.startsWith("```") || t.startsWith("#") || t.startsWith("|")) {
            return true;
        }
        return t.chars().noneMatch(Character::isLetterOrDigit);
    }

    private static boolean looksLikeCode(String t) {
        return t.endsWith(";") || t.endsWith("{") || t.endsWith("}") || t.startsWith("$ ") || t.startsWith(">>>");
    }

    private static void flush(StringBuilder paragraph, List<String> out) {
        if (paragraph.isEmpty()) {
            return;
        }
        String p = collapseSpaces(paragraph.toString());
        paragraph.setLength(0);
        if (isProse(p)) {
            out.add(p);
        }
    }

    static String collapseSpaces(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean space = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c) || c == '\u00a0') {
                space = true;
                continue;
            }
            if (space && !b.isEmpty()) {
                b.append(' ');
            }
            space = false;
            b.append(c);
        }
        return b.toString();
    }

    /**
     * A paragraph reads as English prose when it has at least eight words, ends like a sentence, is mostly
     * letters, and at least a sixth of its words are common English function words.
     */
    public static boolean isProse(String p) {
        String[] words = p.split(" ");
        if (words.length < 8) {
            return false;
        }
        char last = p.charAt(p.length() - 1);
        if (".!?:;\"')\u201d".indexOf(last) < 0) {
            return false;
        }
        int letters = 0;
        int visible = 0;
        int nonAscii = 0;
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == ' ') {
                continue;
            }
            visible++;
            if (Character.isLetter(c)) {
                letters++;
            }
            if (c > 127) {
                nonAscii++;
            }
        }
        if (letters < 0.75 * visible || nonAscii > 0.05 * visible || visible > 14 * words.length) {
            return false;
        }
        int function = 0;
        for (String w : words) {
            String bare = stripPunctuation(w).toLowerCase(Locale.ROOT);
            if (FUNCTION_WORDS.contains(bare)) {
                function++;
            }
        }
        return function * 6 >= words.length;
    }

    private static String stripPunctuation(String w) {
        int a = 0;
        int b = w.length();
        while (a < b && !Character.isLetter(w.charAt(a))) {
            a++;
        }
        while (b > a && !Character.isLetter(w.charAt(b - 1))) {
            b--;
        }
        return w.substring(a, b);
    }

    /** Numeric character references and the named entities that documentation uses. */
    static String decodeEntities(String s) {
        if (s.indexOf('&') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            int semi = c == '&' ? s.indexOf(';', i + 1) : -1;
            if (semi > i + 1 && semi - i <= 10) {
                String name = s.substring(i + 1, semi);
                String value = entity(name);
                if (value != null) {
                    b.append(value);
                    i = semi + 1;
                    continue;
                }
            }
            b.append(c);
            i++;
        }
        return b.toString();
    }

    private static String entity(String name) {
        if (name.startsWith("#")) {
            try {
                int code = name.length() > 1 && (name.charAt(1) == 'x' || name.charAt(1) == 'X')
                        ? Integer.parseInt(name.substring(2), 16) : Integer.parseInt(name.substring(1));
                return Character.isValidCodePoint(code) ? new String(Character.toChars(code)) : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return switch (name) {
            case "amp" -> "&";
            case "lt" -> "<";
            case "gt" -> ">";
            case "quot" -> "\"";
            case "apos" -> "'";
            case "nbsp" -> " ";
            case "mdash" -> "\u2014";
            case "ndash" -> "\u2013";
            case "hellip" -> "\u2026";
            case "rsquo" -> "\u2019";
            case "lsquo" -> "\u2018";
            case "rdquo" -> "\u201d";
            case "ldquo" -> "\u201c";
            case "copy" -> "\u00a9";
            case "para" -> "\u00b6";
            case "sect" -> "\u00a7";
            case "times" -> "\u00d7";
            default -> null;
        };
    }
}
