package dev.octet.data.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json} run by the Rust {@code tokenizers} library through DJL. The DJL jar
 * carries the native library for linux-x86_64 (and aarch64, macOS, Windows); DJL unpacks it once into its
 * cache directory ({@code ~/.djl.ai}, or {@code DJL_CACHE_DIR}), so nothing is downloaded (on a CUDA machine too:
 * see {@link #useBundledLibrary}).
 *
 * <p>The vocabulary size and the special tokens are read from the JSON itself (the model's vocabulary and
 * {@code added_tokens}), because DJL does not expose them. Unlike JTokkit's ordinary encoding, the Rust
 * library matches added tokens inside the text: text spelling {@code <|endoftext|>} becomes that token.
 */
public final class HuggingFaceJsonTokenizer implements Tokenizer {

    /** End-of-document tokens looked for in this order; the first one the file has is used. */
    static final List<String> END_OF_DOCUMENT_CANDIDATES = List.of("<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>");

    private final String name;
    private final int vocabularySize;
    private final Map<String, Integer> addedTokens;
    private final int endOfDocumentId;
    private final HuggingFaceTokenizer library;

    private HuggingFaceJsonTokenizer(String name, int vocabularySize, Map<String, Integer> addedTokens, int endOfDocumentId,
                                     HuggingFaceTokenizer library) {
        this.name = name;
        this.vocabularySize = vocabularySize;
        this.addedTokens = addedTokens;
        this.endOfDocumentId = endOfDocumentId;
        this.library = library;
    }

    /** Loads {@code file}; an unreadable or malformed file is an {@link IOException} naming it. */
    public static HuggingFaceJsonTokenizer load(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        TokenizerJson json;
        try {
            json = TokenizerJson.parse(JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8)));
        } catch (JsonParseException | IllegalStateException | IllegalArgumentException | UnsupportedOperationException e) {
            throw new IOException(file + ": not a Hugging Face tokenizer.json: " + e.getMessage(), e);
        }
        int endOfDocument = END_OF_DOCUMENT_CANDIDATES.stream().filter(json.added()::containsKey).findFirst()
                .map(json.added()::get)
                .orElseThrow(() -> new IOException(file + ": the tokenizer has no end-of-document token (looked for "
                        + String.join(", ", END_OF_DOCUMENT_CANDIDATES) + " among its added tokens)"));
        HuggingFaceTokenizer loaded;
        useBundledLibrary();
        try {
            loaded = HuggingFaceTokenizer.newInstance(file, Map.of("addSpecialTokens", "false", "truncation", "false",
                    "padding", "false"));
        } catch (RuntimeException e) {
            throw new IOException(file + ": the tokenizers library refused it: " + e.getMessage(), e);
        }
        String name = "hf:" + file.getFileName() + "#sha256:" + sha256(bytes).substring(0, 16);
        return new HuggingFaceJsonTokenizer(name, json.vocabularySize(), json.added(), endOfDocument, loaded);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int vocabularySize() {
        return vocabularySize;
    }

    @Override
    public int[] encode(String text) {
        long[] ids = library.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] wide = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            wide[i] = ids[i];
        }
        return library.decode(wide, false);
    }

    @Override
    public OptionalInt specialTokenId(String text) {
        Integer id = addedTokens.get(text);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public int endOfDocumentId() {
        return endOfDocumentId;
    }

    @Override
    public void close() {
        library.close();
    }

    /**
     * On a machine with CUDA, DJL asks for a CUDA build of the library, which its jar does not carry, and downloads
     * it; without a network that fails. Tokenizing needs no GPU: unless the user chose a flavor ({@code RUST_FLAVOR},
     * environment or property), the CPU build bundled in the jar is used.
     */
    private static void useBundledLibrary() {
        if (System.getenv("RUST_FLAVOR") == null && System.getProperty("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** What Octet reads from the JSON itself: the vocabulary size and the added tokens by text. */
    private record TokenizerJson(int vocabularySize, Map<String, Integer> added) {
        static TokenizerJson parse(JsonElement root) {
            JsonObject model = root.getAsJsonObject().getAsJsonObject("model");
            if (model == null || !model.has("vocab")) {
                throw new IllegalArgumentException("it has no model.vocab");
            }
            long maxId = -1;
            JsonElement vocab = model.get("vocab");
            if (vocab.isJsonObject()) { // BPE, WordLevel, WordPiece: token -> id
                for (var e : vocab.getAsJsonObject().entrySet()) {
                    maxId = Math.max(maxId, e.getValue().getAsLong());
                }
            } else { // Unigram: [piece, score] pairs, the id is the index
                maxId = vocab.getAsJsonArray().size() - 1L;
            }
            Map<String, Integer> added = new java.util.HashMap<>();
            JsonElement list = root.getAsJsonObject().get("added_tokens");
            if (list != null && list.isJsonArray()) {
                for (JsonElement t : list.getAsJsonArray()) {
                    int id = t.getAsJsonObject().get("id").getAsInt();
                    added.put(t.getAsJsonObject().get("content").getAsString(), id);
                    maxId = Math.max(maxId, id);
                }
            }
            if (maxId < 0 || maxId >= Integer.MAX_VALUE) {
                throw new IllegalArgumentException("its vocabulary is empty or has ids beyond 2^31");
            }
            return new TokenizerJson((int) maxId + 1, Map.copyOf(added));
        }
    }
}
