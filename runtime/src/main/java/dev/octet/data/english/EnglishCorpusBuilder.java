package dev.octet.data.english;

import com.google.gson.Gson;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Builds the English corpus from unpacked source packages: each accepted file becomes paragraphs of prose
 * ({@link ProseExtractor}); a paragraph already seen anywhere earlier in the corpus is dropped (page furniture,
 * copyright lines, text repeated between packages); what is left of a file is cut into documents of at most
 * {@link #MAX_DOCUMENT_CHARS} characters at paragraph boundaries; a document goes to the held-out file when the
 * hash of its text falls in the held-out share, else to the training file. Sources are read in
 * {@link EnglishSources#ALL} order and files in path order, so the same packages give the same files byte for byte.
 */
public final class EnglishCorpusBuilder {
    /** Longer documents are cut, so that one large file (a dictionary) is not one unit of the split. */
    public static final int MAX_DOCUMENT_CHARS = 20_000;
    /** Documents shorter than this, after deduplication, are dropped. */
    public static final int MIN_DOCUMENT_WORDS = 30;
    public static final String TRAIN = "english-train.jsonl.gz";
    public static final String HELD_OUT = "english-heldout.jsonl.gz";

    private static final Gson GSON = new Gson();

    /** What one source contributed. */
    public record SourceCount(String name, int files, long documents, long heldOutDocuments, long paragraphs, long duplicateParagraphs,
            long words, long bytes) {}

    public record Result(Path train, Path heldOut, List<SourceCount> sources) {
        public long documents() {
            return sources.stream().mapToLong(SourceCount::documents).sum();
        }

        public long words() {
            return sources.stream().mapToLong(SourceCount::words).sum();
        }
    }

    private final int heldOutPerMille;
    private final LongHashSet seenParagraphs = new LongHashSet(1 << 20);

    /** @param heldOutPerMille documents per thousand that are held out (0 to 1000) */
    public EnglishCorpusBuilder(int heldOutPerMille) {
        if (heldOutPerMille < 0 || heldOutPerMille > 1000) {
            throw new IllegalArgumentException("held-out share must be 0 to 1000 per mille, not " + heldOutPerMille);
        }
        this.heldOutPerMille = heldOutPerMille;
    }

    /** Reads FROM/&lt;source name&gt;/ for each source (one that is missing is an error) and writes OUT's two files. */
    public Result build(Path from, List<EnglishSources.Source> sources, Path out, java.util.function.Consumer<SourceCount> progress)
            throws IOException {
        Files.createDirectories(out);
        Path train = out.resolve(TRAIN);
        Path heldOut = out.resolve(HELD_OUT);
        List<SourceCount> counts = new ArrayList<>();
        try (Writer t = gzipWriter(train); Writer h = gzipWriter(heldOut)) {
            for (EnglishSources.Source s : sources) {
                Path root = from.resolve(s.name());
                if (!Files.isDirectory(root)) {
                    throw new java.nio.file.NoSuchFileException(root + " (source " + s.name() + " is not unpacked there)");
                }
                SourceCount c = source(s, root, t, h);
                counts.add(c);
                progress.accept(c);
            }
        }
        return new Result(train, heldOut, counts);
    }

    private SourceCount source(EnglishSources.Source s, Path root, Writer train, Writer heldOut) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(Files::isRegularFile).filter(p -> !Files.isSymbolicLink(p))
                    .filter(p -> s.accepts("/" + relative(root, p))).sorted().toList();
        }
        long documents = 0;
        long held = 0;
        long paragraphs = 0;
        long duplicates = 0;
        long words = 0;
        long bytes = 0;
        for (Path file : files) {
            String text = read(file);
            if (s.gutenberg()) {
                text = ProseExtractor.stripGutenberg(text);
            }
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            List<String> ps = name.matches(".*\\.(html?|xhtml)(\\.gz|\\.en)?$") ? ProseExtractor.html(text) : ProseExtractor.plain(text);
            List<String> kept = new ArrayList<>(ps.size());
            for (String p : ps) {
                if (seenParagraphs.add(fnv64(p))) {
                    kept.add(p);
                } else {
                    duplicates++;
                }
            }
            paragraphs += kept.size();
            for (String document : documents(kept)) {
                long w = document.split("\\s+").length;
                if (w < MIN_DOCUMENT_WORDS) {
                    continue;
                }
                boolean isHeldOut = Long.remainderUnsigned(mix(fnv64(document)), 1000) < heldOutPerMille;
                (isHeldOut ? heldOut : train).write(GSON.toJson(Map.of("text", document)) + "\n");
                documents++;
                held += isHeldOut ? 1 : 0;
                words += w;
                bytes += document.getBytes(StandardCharsets.UTF_8).length;
            }
        }
        return new SourceCount(s.name(), files.size(), documents, held, paragraphs, duplicates, words, bytes);
    }

    /** Paragraphs joined by empty lines into documents of at most MAX_DOCUMENT_CHARS (a longer paragraph stands alone). */
    static List<String> documents(List<String> paragraphs) {
        List<String> out = new ArrayList<>();
        StringBuilder d = new StringBuilder();
        for (String p : paragraphs) {
            if (!d.isEmpty() && d.length() + 2 + p.length() > MAX_DOCUMENT_CHARS) {
                out.add(d.toString());
                d.setLength(0);
            }
            if (!d.isEmpty()) {
                d.append("\n\n");
            }
            d.append(p);
        }
        if (!d.isEmpty()) {
            out.add(d.toString());
        }
        return out;
    }

    private static String relative(Path root, Path p) {
        return root.relativize(p).toString().replace('\\', '/');
    }

    /** A file's text: gzip (and dictzip, .dz) unpacked; bytes that are not UTF-8 read as Latin-1. */
    static String read(Path file) throws IOException {
        byte[] bytes;
        String n = file.getFileName().toString();
        if (n.endsWith(".gz") || n.endsWith(".dz")) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
                bytes = in.readAllBytes();
            }
        } else {
            bytes = Files.readAllBytes(file);
        }
        var decoder = StandardCharsets.UTF_8.newDecoder();
        try {
            return decoder.decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
    }

    private static Writer gzipWriter(Path file) throws IOException {
        return new BufferedWriter(new OutputStreamWriter(new GZIPOutputStream(Files.newOutputStream(file), 1 << 16), StandardCharsets.UTF_8),
                1 << 16);
    }

    /** FNV-1a over the UTF-16 units of a string, 64 bits. */
    static long fnv64(String s) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < s.length(); i++) {
            h ^= s.charAt(i);
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** A finalizer (SplitMix64's) so that the low digits of the hash are well spread before taking it modulo 1000. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** A set of longs by open addressing; 0 is kept aside in a flag. */
    static final class LongHashSet {
        private long[] slots;
        private int size;
        private boolean hasZero;

        LongHashSet(int capacity) {
            slots = new long[Integer.highestOneBit(Math.max(16, capacity) - 1) << 1];
        }

        /** True when the value was not in the set. */
        boolean add(long v) {
            if (v == 0) {
                boolean added = !hasZero;
                hasZero = true;
                return added;
            }
            if (size * 2 >= slots.length) {
                grow();
            }
            int mask = slots.length - 1;
            int i = (int) mix(v) & mask;
            while (slots[i] != 0) {
                if (slots[i] == v) {
                    return false;
                }
                i = (i + 1) & mask;
            }
            slots[i] = v;
            size++;
            return true;
        }

        private void grow() {
            long[] old = slots;
            slots = new long[old.length * 2];
            size = 0;
            for (long v : old) {
                if (v != 0) {
                    add(v);
                }
            }
        }
    }
}
