package dev.octet.data;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * A plain-text corpus cut into documents.
 *
 * <p>Document rule: a run of two or more empty lines (lines holding only spaces or tabs count as
 * empty) ends a document; single empty lines separate paragraphs inside one. Each document is
 * stripped of surrounding whitespace and empty documents are dropped.
 */
public record TextCorpus(Path source, List<String> documents) {

    /** The GPT-2 byte-level BPE; its vocabulary has 50,257 ids, the last being end-of-text. */
    public static final EncodingType GPT2 = EncodingType.R50K_BASE;
    public static final int GPT2_VOCABULARY_SIZE = 50_257;
    public static final int GPT2_END_OF_TEXT = 50_256;

    private static final Pattern DOCUMENT_BREAK = Pattern.compile("\\n(?:[ \\t]*\\n){2,}");

    public TextCorpus {
        documents = List.copyOf(documents);
    }

    /** Reads a {@code .txt} file, or a gzip-compressed {@code .gz} one, as UTF-8. */
    public static TextCorpus load(Path file) throws IOException {
        byte[] bytes;
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw) {
            bytes = in.readAllBytes();
        }
        return new TextCorpus(file, splitDocuments(new String(bytes, StandardCharsets.UTF_8)));
    }

    /** Loads {@code examples/data/<name>.txt.gz} of this repository; see {@link #exampleFile}. */
    public static TextCorpus loadExample(String name) throws IOException {
        return load(exampleFile(name));
    }

    /**
     * Finds {@code examples/data/<name>.txt.gz} in the working directory or the nearest parent that
     * has it, so the same call works from the repository root and from a module directory.
     */
    public static Path exampleFile(String name) throws NoSuchFileException {
        Path relative = Path.of("examples", "data", name + ".txt.gz");
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(relative);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new NoSuchFileException(relative + " (searched from " + Path.of("").toAbsolutePath() + " upwards)");
    }

    /** Applies the document rule of this class to {@code text}. */
    public static List<String> splitDocuments(String text) {
        String unix = text.replace("\r\n", "\n").replace('\r', '\n');
        List<String> documents = new ArrayList<>();
        for (String part : DOCUMENT_BREAK.split(unix)) {
            String document = part.strip();
            if (!document.isEmpty()) {
                documents.add(document);
            }
        }
        return documents;
    }

    public static Encoding gpt2Encoding() {
        return Encodings.newDefaultEncodingRegistry().getEncoding(GPT2);
    }

    /**
     * Encodes every document with GPT-2's BPE and ends each with the end-of-text token, so a model
     * sees where documents stop. Text that spells a special token is encoded as ordinary text.
     */
    public TokenizedCorpus tokenize() {
        Encoding encoding = gpt2Encoding();
        // Documents are independent, so they encode in parallel; order is kept by the indexed list.
        int[][] encoded = documents.parallelStream()
                .map(document -> encoding.encodeOrdinary(document).toArray())
                .toArray(int[][]::new);
        return TokenizedCorpus.of(encoded, GPT2_END_OF_TEXT);
    }
}
