package dev.octet.data.english;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProseExtractorTest {
    private static final String SENTENCE = "The interpreter reads the file and runs each of the statements in the order that they appear.";

    @Test
    void htmlKeepsProseAndDropsScriptsCodeAndNavigation() {
        String html = "<html><head><title>T</title><style>p { color: red; }</style></head><body>"
                + "<nav><p>Home of the site and all of the pages that are in it, for the reader.</p></nav>"
                + "<h1>Heading</h1><p>The interpreter reads the <code>file</code> and runs each of the\n statements in the order that"
                + " they&nbsp;appear.</p><pre>for x in range(10):\n    print(x)</pre>"
                + "<script>var a = 'the text of a script is not for the model to read, at all.';</script>"
                + "<!-- a comment is not text for the reader of the page, nor for the model. -->"
                + "<ul><li>one</li><li>two</li></ul><p>Fish &amp; chips &#8212; &quot;a dish&quot; that is served in the north of the land.</p>"
                + "<footer><p>Copyright 2023 by the authors of this page, and all of the rights are reserved.</p></footer></body></html>";
        assertEquals(List.of(SENTENCE, "Fish & chips \u2014 \"a dish\" that is served in the north of the land."), ProseExtractor.html(html));
    }

    @Test
    void plainTextJoinsWrappedLinesAndDropsMarkup() {
        String rst = "Title\n=====\n\n.. note:: a directive\n\nThe interpreter reads the file and runs each\nof the statements in the order"
                + " that they appear.\n\n    x = compute(1, 2);\n    y = x + 1;\n\n=head1 NAME\n";
        assertEquals(List.of(SENTENCE), ProseExtractor.plain(rst));
    }

    @Test
    void proseNeedsSentencesOfEnglishWords() {
        assertTrue(ProseExtractor.isProse(SENTENCE));
        assertFalse(ProseExtractor.isProse("Too short to be a paragraph."), "fewer than eight words");
        assertFalse(ProseExtractor.isProse("Index Modules Next Previous Python Documentation Home Search Page"), "no sentence end");
        assertFalse(ProseExtractor.isProse("int x = foo(bar, baz); int y = qux(x, 3); return x + y * 2;"), "code");
        assertFalse(ProseExtractor.isProse("Der Interpreter liest die Datei und führt jede Anweisung der Reihe nach aus."), "not English");
    }

    @Test
    void gutenbergHeaderAndFooterAreCut() {
        String book = "The Project Gutenberg eBook of Moby Dick\n*** START OF THE PROJECT GUTENBERG EBOOK MOBY DICK ***\n"
                + "Call me Ishmael.\n*** END OF THE PROJECT GUTENBERG EBOOK MOBY DICK ***\nLicence text.";
        assertEquals("Call me Ishmael.\n", ProseExtractor.stripGutenberg(book));
        assertEquals("No markers here.", ProseExtractor.stripGutenberg("No markers here."));
    }
}
