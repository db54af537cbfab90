package dev.octet.cli;

import dev.octet.testing.ConsoleCapture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.data.tokenfile.TokenFile;
import dev.octet.data.tokenfile.TokenFileHeader;
import dev.octet.data.tokenizer.JTokkitTokenizer;
import dev.octet.data.tokenizer.TinyTokenizerJson;
import dev.octet.train.MetricsLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.LongStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code octet data tokenize}, and {@code octet train} on a token file and on conversations. */
class DataPipelineCommandTest {
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @TempDir
    Path dir;

    private static final String MODEL = """
            model mini {
              vocab = %d  dim = 64  ffn = 128  heads = 1  kv_heads = 1  head_dim = 64  layers = 1  max_seq = 32
              tie_embeddings = true
              forward {
                x = embedding(tokens)
                repeat layers {
                  x = x + attention(rmsnorm(x), rope = true)
                  x = x + swiglu(rmsnorm(x))
                }
                logits = lm_head(rmsnorm(x))
                loss = cross_entropy(logits, targets)
              }
            }
            recipe bf16 { bf16 = all }
            training run {
              model = mini  recipe = bf16  mode = %s
              optimizer = adamw(lr = 1e-3, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1)
              schedule = constant(warmup = 0)
              clip_grad_norm = 1.0  micro_batch = 2  global_batch = 2  seq_len = 8  steps = 2  seed = 3
              data = "%s"
            }
            """;

    private Path octet(int vocab, String mode, String data) throws IOException {
        return Files.writeString(dir.resolve("mini.octet"), MODEL.formatted(vocab, mode, data));
    }

    @Test
    void tokenizesTextGzipAndJsonlIntoOneFile() throws IOException {
        Path text = Files.writeString(dir.resolve("a.txt"), "Hello world.\n\n\nSecond document.\n");
        Path gz = dir.resolve("b.txt.gz");
        try (var z = new GZIPOutputStream(Files.newOutputStream(gz))) {
            z.write("Third.".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        Path jsonl = Files.writeString(dir.resolve("c.jsonl"), "{\"text\": \"Fourth\"}\n\n{\"text\": \"Fifth\", \"id\": 5}\n");
        Path tok = dir.resolve("all.tok");
        int code = OctetMain.run("data", "tokenize", text.toString(), gz.toString(), jsonl.toString(), "--tokenizer", "gpt2",
                "--out", tok.toString());
        assertEquals(ExitCodes.OK, code, console.err());
        TokenFile f = TokenFile.open(tok);
        assertEquals(5, f.header().documentCount());
        assertEquals("gpt2", f.header().tokenizer());
        int[] ids = LongStream.range(0, f.tokenCount()).mapToInt(f::token).toArray();
        try (var gpt2 = JTokkitTokenizer.of(JTokkitTokenizer.Base.GPT2)) {
            assertEquals("Hello world.<|endoftext|>Second document.<|endoftext|>Third.<|endoftext|>Fourth<|endoftext|>Fifth<|endoftext|>",
                    gpt2.decode(ids));
        }
        assertTrue(console.out().contains("5 documents, tokenizer gpt2, vocabulary 50,257 (u16)"), console.out());
    }

    @Test
    void gpt2sOwnVocabularyTrainsOnGpt2TokenizedText() throws IOException {
        // Text never encodes to the two ChatML ids Octet adds to GPT-2, so a model with GPT-2's 50,257 ids fits.
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            text.append("Document ").append(i).append(" says something about the weather.\n\n\n");
        }
        Path tok = dir.resolve("gpt2.tok");
        assertEquals(ExitCodes.OK, OctetMain.run("data", "tokenize", Files.writeString(dir.resolve("t.txt"), text).toString(),
                "--tokenizer", "gpt2", "--out", tok.toString()), console.err());
        assertEquals(50_257, TokenFile.open(tok).header().vocabularySize());
        assertEquals(ExitCodes.OK, OctetMain.run("train", octet(50_257, "pretrain", "gpt2.tok").toString(),
                "--out", dir.resolve("run").toString()), console.err());
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", octet(50_256, "pretrain", "gpt2.tok").toString(),
                "--out", dir.resolve("small").toString()));
        assertTrue(console.err().contains("the tokenizer gpt2 has 50,257 ids but model 'mini' has vocab = 50256"), console.err());
    }

    @Test
    void aBadRecordStopsTokenizingWithItsLineUnlessSkipped() throws IOException {
        Path jsonl = Files.writeString(dir.resolve("c.jsonl"), "{\"text\": \"ok\"}\n{\"body\": \"no text\"}\n{\"text\": \"ok\"}\n");
        Path tok = dir.resolve("c.tok");
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("data", "tokenize", jsonl.toString(), "--tokenizer", "gpt2", "--out", tok.toString()));
        assertTrue(console.err().contains(jsonl + ":2: missing string \"text\""), console.err());
        assertFalse(Files.exists(tok), "no token file is left behind");
        assertEquals(ExitCodes.OK, OctetMain.run("data", "tokenize", jsonl.toString(), "--tokenizer", "gpt2", "--out", tok.toString(),
                "--on-bad-record=skip"));
        assertTrue(console.err().contains("skipped 1 bad record"), console.err());
        assertEquals(2, TokenFile.open(tok).header().documentCount());
        assertEquals(ExitCodes.USAGE, OctetMain.run("data", "tokenize", jsonl.toString(), "--tokenizer", "gpt2", "--out", tok.toString(),
                "--on-bad-record=ignore"));
    }

    @Test
    void trainsOnATokenFile() throws IOException {
        Path tokenizer = TinyTokenizerJson.write(dir, true);
        Path text = Files.writeString(dir.resolve("words.txt"), "hello world! how are you?\n\n\nfine.\n\n\n".repeat(10));
        assertEquals(ExitCodes.OK, OctetMain.run("data", "tokenize", text.toString(), "--tokenizer", tokenizer.toString(),
                "--out", dir.resolve("words.tok").toString()), console.err());
        Path run = dir.resolve("run");
        int code = OctetMain.run("train", octet(32, "pretrain", "words.tok").toString(), "--out", run.toString(), "--log-every", "1");
        assertEquals(ExitCodes.OK, code, console.err());
        assertEquals(2 + 1, MetricsLog.read(run.resolve(MetricsLog.FILE_NAME)).size());
        assertTrue(console.out().contains("110 tokens in 20 documents"), console.out());

        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", octet(16, "pretrain", "words.tok").toString(),
                "--out", dir.resolve("run2").toString()));
        assertTrue(console.err().contains("has 17 ids but model 'mini' has vocab = 16"), console.err());
    }

    @Test
    void aTruncatedTokenFileIsAOneLineError() throws IOException {
        Path tok = dir.resolve("t.tok");
        Files.write(tok, new byte[300]);
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", octet(32, "pretrain", "t.tok").toString(),
                "--out", dir.resolve("run").toString()));
        assertEquals(dir.resolve("t.tok") + ": not an Octet token file (no OCTETTOK magic); make one with 'octet data tokenize'",
                console.err().strip());
    }

    @Test
    void aTokenFileDamagedInTheMiddleIsRefusedBeforeAnyStep() throws IOException {
        Path tokenizer = TinyTokenizerJson.write(dir, true);
        Path text = Files.writeString(dir.resolve("words.txt"), "hello world! how are you?\n\n\nfine.\n\n\n".repeat(10));
        Path tok = dir.resolve("words.tok");
        assertEquals(ExitCodes.OK, OctetMain.run("data", "tokenize", text.toString(), "--tokenizer", tokenizer.toString(),
                "--out", tok.toString()), console.err());
        byte[] good = Files.readAllBytes(tok);
        int middle = TokenFileHeader.SIZE + 2 * 50;
        for (int id : new int[] {31, 4}) { // outside the tokenizer's 17 ids, then a valid id that is not the one written
            byte[] bad = good.clone();
            bad[middle] = (byte) (bad[middle] == id ? id + 1 : id);
            bad[middle + 1] = 0;
            Files.write(tok, bad);
            console.resetErr();
            Path run = dir.resolve("run-" + id);
            assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", octet(32, "pretrain", "words.tok").toString(),
                    "--out", run.toString()));
            String message = console.err().strip();
            assertEquals(1, message.lines().count(), message);
            assertTrue(message.startsWith(tok + ": corrupted: "), message);
            assertTrue(message.contains(id == 31 ? "token 50 is 31, outside the vocabulary of 17" : "checksum"), message);
            assertFalse(Files.exists(run.resolve(MetricsLog.FILE_NAME)), "no step ran");
        }
    }

    @Test
    void tokenizeNeverWritesOverItsInputOrAFileThatIsNotATokenFile() throws IOException {
        String content = "Hello world.\n\n\nSecond document.\n";
        Path text = Files.writeString(dir.resolve("a.txt"), content);
        assertEquals(ExitCodes.USAGE, OctetMain.run("data", "tokenize", text.toString(), "--tokenizer", "gpt2", "--out", text.toString()));
        assertEquals(text + ": error: is also an input (" + text + "); write the token file elsewhere, e.g. --out a.txt.tok",
                console.err().strip());
        assertEquals(ExitCodes.USAGE, OctetMain.run("data", "tokenize", text.toString(), "--tokenizer", "gpt2",
                "--out", dir.resolve(".").resolve("a.txt").toString()));
        assertEquals(content, Files.readString(text));

        Path notes = Files.writeString(dir.resolve("notes.md"), "mine");
        console.resetErr();
        assertEquals(ExitCodes.USAGE, OctetMain.run("data", "tokenize", text.toString(), "--tokenizer", "gpt2", "--out", notes.toString()));
        assertEquals(notes + ": error: exists and is not a token file; choose another --out, or --force to replace it", console.err().strip());
        assertEquals("mine", Files.readString(notes));
        assertEquals(ExitCodes.OK, OctetMain.run("data", "tokenize", text.toString(), "--tokenizer", "gpt2", "--out", notes.toString(),
                "--force"), console.err());
        assertEquals(2, TokenFile.open(notes).header().documentCount());

        Path tok = dir.resolve("a.tok");
        assertEquals(ExitCodes.OK, OctetMain.run("data", "tokenize", text.toString(), "--tokenizer", "gpt2", "--out", tok.toString()));
        assertEquals(ExitCodes.OK, OctetMain.run("data", "tokenize", text.toString(), text.toString(), "--tokenizer", "gpt2",
                "--out", tok.toString()), "a token file is replaced by a new one without asking");
        assertEquals(4, TokenFile.open(tok).header().documentCount());
    }

    @Test
    void fineTunesOnConversationsAndReportsSkippedRecords() throws IOException {
        Path tokenizer = TinyTokenizerJson.write(dir, true);
        String good = "{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"},{\"role\":\"assistant\",\"content\":\"hi!\"}]}\n";
        Files.writeString(dir.resolve("chat.jsonl"), good.repeat(3) + "{\"messages\":[]}\n" + good.repeat(3));
        Path file = octet(32, "sft", "chat.jsonl");
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", file.toString(), "--tokenizer", tokenizer.toString(),
                "--out", dir.resolve("stopped").toString()));
        assertTrue(console.err().contains(dir.resolve("chat.jsonl") + ":4: empty conversation"), console.err());

        Path run = dir.resolve("run");
        int code = OctetMain.run("train", file.toString(), "--tokenizer", tokenizer.toString(), "--on-bad-record=skip",
                "--out", run.toString());
        assertEquals(ExitCodes.OK, code, console.err());
        assertTrue(console.err().contains("skipped 1 bad record"), console.err());
        assertTrue(console.out().contains("6 conversations (tokenizer hf:tokenizer.json"), console.out());
        assertTrue(console.out().contains("packed into 6 sequences (5 to train, 1 held out), 0 cut to seq_len, 1 skipped"), console.out());
        assertEquals(2 + 1, MetricsLog.read(run.resolve(MetricsLog.FILE_NAME)).size());

        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", file.toString(), "--out", dir.resolve("gpt2").toString()));
        assertTrue(console.err().contains("the tokenizer gpt2 has 50,259 ids but model 'mini' has vocab = 32"), console.err());
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("train", octet(32, "pretrain", "chat.jsonl").toString(),
                "--out", dir.resolve("pre").toString()));
        assertTrue(console.err().contains("mode = sft"), console.err());
    }

    @Test
    void theHelpListsTheDataCommand() {
        assertEquals(ExitCodes.OK, OctetMain.run("data", "tokenize", "--help"));
        assertTrue(console.out().contains("--tokenizer"), console.out());
        assertEquals("", console.err());
    }
}
