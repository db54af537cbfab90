package dev.octet.data.tokenfile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The token file: header round trip, both token widths, windowed mapping, and every corruption named. */
class TokenFileTest {

    @TempDir
    Path dir;

    private Path write(String name, int vocabulary, int endOfDocument, int[]... documents) throws IOException {
        Path file = dir.resolve(name);
        try (TokenFileWriter w = new TokenFileWriter(file, "test-tokenizer", vocabulary, endOfDocument)) {
            for (int[] d : documents) {
                w.appendDocument(d);
            }
            w.finish();
        }
        return file;
    }

    private static int[] all(TokenFile f) {
        return LongStream.range(0, f.tokenCount()).mapToInt(f::token).toArray();
    }

    @Test
    void headerAndTokensRoundTripInU16() throws IOException {
        Path file = write("a.tok", 50_259, 50_256, new int[] {1, 2, 3}, new int[] {}, new int[] {65_535 % 50_259, 7});
        TokenFile f = TokenFile.open(file);
        assertEquals(new TokenFileHeader("test-tokenizer", 50_259, 50_256, 8, 3), f.header());
        assertEquals(TokenDtype.U16, f.header().dtype());
        assertEquals(TokenFileHeader.SIZE + 8 * 2, Files.size(file));
        assertArrayEquals(new int[] {1, 2, 3, 50_256, 50_256, 15_276, 7, 50_256}, all(f));
        assertFalse(Files.exists(dir.resolve("a.tok.partial")), "the partial file is renamed into place");
    }

    @Test
    void aVocabularyAbove65536UsesU32() throws IOException {
        Path file = write("b.tok", 100_279, 100_257, new int[] {100_278, 0, 65_536});
        TokenFile f = TokenFile.open(file);
        assertEquals(TokenDtype.U32, f.header().dtype());
        assertArrayEquals(new int[] {100_278, 0, 65_536, 100_257}, all(f));
        assertEquals(TokenDtype.U16, TokenDtype.forVocabulary(65_536));
        assertEquals(TokenDtype.U32, TokenDtype.forVocabulary(65_537));
    }

    @Test
    void readsAcrossManyWindowsAsOneStream() throws IOException {
        int[] document = java.util.stream.IntStream.range(0, 1000).map(i -> (i * 7919) % 5000).toArray();
        Path file = write("c.tok", 5001, 5000, document, document);
        for (long window : new long[] {4, 8, 64, 1024}) {
            TokenFile f = TokenFile.open(file, window);
            int[] tokens = all(f);
            assertEquals(2002, tokens.length);
            assertArrayEquals(document, Arrays.copyOfRange(tokens, 1001, 2001), "window " + window);
            assertEquals(5000, tokens[1000]);
        }
    }

    @Test
    void anUnfinishedWriterLeavesNothing() throws IOException {
        Path file = dir.resolve("d.tok");
        try (TokenFileWriter w = new TokenFileWriter(file, "t", 10, 9)) {
            w.appendDocument(new int[] {1});
            assertThrows(IllegalArgumentException.class, () -> w.appendDocument(new int[] {10}));
        }
        assertFalse(Files.exists(file));
        assertFalse(Files.exists(dir.resolve("d.tok.partial")));
    }

    // --- corruption: one line, naming the file and what is wrong -------------------------------------------------

    private String errorOf(Path file) {
        TokenFileException e = assertThrows(TokenFileException.class, () -> TokenFile.open(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    private Path good() throws IOException {
        return write("good.tok", 1000, 999, new int[] {1, 2, 3, 4, 5}, new int[] {6, 7});
    }

    private Path patched(int offset, ByteBuffer bytes) throws IOException {
        Path file = good();
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            raf.write(bytes.array());
        }
        return file;
    }

    private static ByteBuffer le(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value);
    }

    private static ByteBuffer le(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
    }

    @Test
    void aTruncatedFileSaysHowManyBytesAreMissing() throws IOException {
        Path file = good();
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(raf.length() - 3);
        }
        String message = errorOf(file);
        assertTrue(message.contains("truncated: the header promises 9 tokens (274 bytes) but the file has 271 bytes"), message);
    }

    @Test
    void aFileShorterThanItsHeaderIsTruncated() throws IOException {
        Path file = good();
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(100);
        }
        assertTrue(errorOf(file).contains("truncated: 100 bytes, shorter than the 256-byte header"));
    }

    @Test
    void otherFilesAreNotTokenFiles() throws IOException {
        Path text = Files.writeString(dir.resolve("text.tok"), "hello, world");
        assertTrue(errorOf(text).contains("not an Octet token file"));
        Path empty = Files.write(dir.resolve("empty.tok"), new byte[0]);
        assertTrue(errorOf(empty).contains("not an Octet token file"));
    }

    @Test
    void corruptedHeaderFieldsAreNamed() throws IOException {
        assertTrue(errorOf(patched(8, le(7))).contains("format version 7, this Octet reads version 1"));
        assertTrue(errorOf(patched(12, le(128))).contains("header size 128"));
        assertTrue(errorOf(patched(16, le(4))).contains("4 bytes per token for a vocabulary of 1000"));
        assertTrue(errorOf(patched(20, le(0))).contains("vocabulary size 0"));
        assertTrue(errorOf(patched(24, le(1000))).contains("end-of-document id 1000 outside the vocabulary of 1000"));
        assertTrue(errorOf(patched(28, le(-1))).contains("tokenizer name of 4294967295 bytes"));
        assertTrue(errorOf(patched(32, le(-1L))).contains("token count 18446744073709551615"));
        assertTrue(errorOf(patched(32, le(1L << 62))).contains("token count"));
        assertTrue(errorOf(patched(40, le(10L))).contains("10 documents in 9 tokens"));
        assertTrue(errorOf(patched(32, le(5L))).contains("bytes after the 5 tokens"));
    }

    @Test
    void aTokenOutsideTheVocabularyIsReportedWhenRead() throws IOException {
        Path file = patched(TokenFileHeader.SIZE + 2, ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 4000));
        TokenFile f = TokenFile.open(file);
        assertEquals(1, f.token(0));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.token(1));
        assertEquals(file + ": corrupted: token 1 is 4000, outside the vocabulary of 1000", e.getMessage());
    }
}
