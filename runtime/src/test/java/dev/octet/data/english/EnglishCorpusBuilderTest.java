package dev.octet.data.english;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnglishCorpusBuilderTest {
    @TempDir
    Path tmp;

    private static String paragraph(int i) {
        return "This is paragraph number " + i + " of the fixture, and it is written so that it reads as an English sentence.";
    }

    private static final EnglishSources.Source DOCS = new EnglishSources.Source("docs", "debian", "docs", "1", "public domain",
            Pattern.compile("\\.(html|txt)(\\.gz)?$"), Pattern.compile("/skip/"), false);
    private static final EnglishSources.Source BOOK = new EnglishSources.Source("book", "npm", "book", "1", "public domain",
            Pattern.compile("\\.txt$"), null, true);

    private void fixture() throws IOException {
        Path docs = Files.createDirectories(tmp.resolve("from/docs/usr/share/doc"));
        StringBuilder page = new StringBuilder("<html><body>");
        for (int i = 0; i < 40; i++) {
            page.append("<p>").append(paragraph(i)).append("</p>");
        }
        page.append("<p>Copyright 2024 the authors of these pages, who reserve all of the rights.</p></body></html>");
        Files.writeString(docs.resolve("a.html"), page);
        // the same footer on a second page is dropped there; its own paragraphs are kept
        Files.writeString(docs.resolve("b.html"), "<p>" + paragraph(100) + "</p><p>" + paragraph(101) + "</p><p>" + paragraph(102)
                + "</p><p>Copyright 2024 the authors of these pages, who reserve all of the rights.</p>");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(docs.resolve("c.txt.gz")))) {
            out.write((paragraph(200) + "\n\n" + paragraph(201) + "\n\n" + paragraph(202) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        Files.createDirectories(docs.resolve("skip"));
        Files.writeString(docs.resolve("skip/d.txt"), paragraph(300) + "\n\n" + paragraph(301) + "\n\n" + paragraph(302));
        Path book = Files.createDirectories(tmp.resolve("from/book"));
        Files.writeString(book.resolve("book.txt"), "Header of the distributor, which says who made the file and under which terms.\n"
                + "*** START OF THIS BOOK ***\n" + paragraph(400) + "\n\n" + paragraph(401) + "\n\n" + paragraph(402) + "\n"
                + "*** END OF THIS BOOK ***\nFooter of the distributor, which repeats the terms under which the file is given.\n");
    }

    private static List<String> texts(Path gz) throws IOException {
        List<String> out = new ArrayList<>();
        try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(new GZIPInputStream(Files.newInputStream(gz)),
                StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                out.add(com.google.gson.JsonParser.parseString(line).getAsJsonObject().get("text").getAsString());
            }
        }
        return out;
    }

    @Test
    void extractsDeduplicatesAndSplitsEveryDocumentOnce() throws IOException {
        fixture();
        var r = new EnglishCorpusBuilder(500).build(tmp.resolve("from"), List.of(DOCS, BOOK), tmp.resolve("out"), c -> {});
        List<String> all = new ArrayList<>(texts(r.train()));
        all.addAll(texts(r.heldOut()));
        String joined = String.join("\n\n", all);
        for (int i : new int[] {0, 39, 100, 102, 200, 202, 400, 402}) {
            assertTrue(joined.contains(paragraph(i)), "paragraph " + i);
        }
        assertEquals(1, joined.split("Copyright 2024", -1).length - 1, "a repeated paragraph is kept once");
        assertTrue(!joined.contains(paragraph(300)), "excluded path");
        assertTrue(!joined.contains("distributor"), "Gutenberg header and footer");
        var docs = r.sources().get(0);
        assertEquals(3, docs.files());
        assertEquals(1, docs.duplicateParagraphs());
        assertEquals(all.size(), r.documents());
        assertTrue(!texts(r.train()).isEmpty() && !texts(r.heldOut()).isEmpty(), "half held out: both sides have documents");
    }

    @Test
    void sameInputGivesSameBytes() throws IOException {
        fixture();
        var a = new EnglishCorpusBuilder(10).build(tmp.resolve("from"), List.of(DOCS, BOOK), tmp.resolve("a"), c -> {});
        var b = new EnglishCorpusBuilder(10).build(tmp.resolve("from"), List.of(DOCS, BOOK), tmp.resolve("b"), c -> {});
        assertArrayEquals(Files.readAllBytes(a.train()), Files.readAllBytes(b.train()));
        assertArrayEquals(Files.readAllBytes(a.heldOut()), Files.readAllBytes(b.heldOut()));
    }

    @Test
    void longTextIsCutAtParagraphs() {
        List<String> ps = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            ps.add(paragraph(i));
        }
        List<String> docs = EnglishCorpusBuilder.documents(ps);
        assertTrue(docs.size() > 1);
        assertTrue(docs.stream().allMatch(d -> d.length() <= EnglishCorpusBuilder.MAX_DOCUMENT_CHARS));
        assertEquals(String.join("\n\n", ps), String.join("\n\n", docs));
    }

    @Test
    void missingSourceFolderIsAnError() {
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> new EnglishCorpusBuilder(10).build(tmp.resolve("none"), List.of(DOCS), tmp.resolve("out"), c -> {}));
    }

    @Test
    void everySourceNameIsUniqueAndFound() {
        assertEquals(EnglishSources.ALL.size(), EnglishSources.ALL.stream().map(EnglishSources.Source::name).distinct().count());
        assertEquals("linux-doc-6.1", EnglishSources.named("linux-doc-6.1").name());
        assertTrue(EnglishSources.named("python3.11-doc").accepts("/usr/share/doc/python3.11/html/library/os.html"));
        assertTrue(!EnglishSources.named("python3.11-doc").accepts("/usr/share/doc/python3.11/html/genindex-A.html"));
    }
}
