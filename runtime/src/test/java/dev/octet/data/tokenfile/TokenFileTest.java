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
import java.util.List;
import java.util.zip.CRC32C;
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
        TokenFileHeader h = f.header();
        assertEquals(List.of("test-tokenizer", 50_259, 50_256, 8L, 3L, TokenFileHeader.VERSION),
                List.of(h.tokenizer(), h.vocabularySize(), h.endOfDocumentId(), h.tokenCount(), h.documentCount(), h.version()));
        assertTrue(h.hasChecksum());
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

    /** Patches header bytes and writes the header checksum again: a field damaged where the checksum cannot see it. */
    private Path patchedKeepingChecksum(int offset, ByteBuffer bytes) throws IOException {
        Path file = patched(offset, bytes);
        ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(file), 0, TokenFileHeader.SIZE).slice().order(ByteOrder.LITTLE_ENDIAN);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(52);
            raf.write(le(TokenFileHeader.headerChecksum(header)).array());
        }
        return file;
    }

    @Test
    void corruptedHeaderFieldsAreNamed() throws IOException {
        assertTrue(errorOf(patched(8, le(7))).contains("format version 7, this Octet reads versions 1 and 2"));
        assertTrue(errorOf(patchedKeepingChecksum(12, le(128))).contains("header size 128"));
        assertTrue(errorOf(patchedKeepingChecksum(16, le(4))).contains("4 bytes per token for a vocabulary of 1000"));
        assertTrue(errorOf(patchedKeepingChecksum(20, le(0))).contains("vocabulary size 0"));
        assertTrue(errorOf(patchedKeepingChecksum(24, le(1000))).contains("end-of-document id 1000 outside the vocabulary of 1000"));
        assertTrue(errorOf(patchedKeepingChecksum(28, le(-1))).contains("tokenizer name of 4294967295 bytes"));
        assertTrue(errorOf(patchedKeepingChecksum(32, le(-1L))).contains("token count 18446744073709551615"));
        assertTrue(errorOf(patchedKeepingChecksum(32, le(1L << 62))).contains("token count"));
        assertTrue(errorOf(patchedKeepingChecksum(40, le(10L))).contains("10 documents in 9 tokens"));
        assertTrue(errorOf(patchedKeepingChecksum(32, le(5L))).contains("bytes after the 5 tokens"));
    }

    @Test
    void anyChangedHeaderByteFailsItsChecksum() throws IOException {
        assertEquals(good() + ": corrupted header: its checksum does not match its bytes", errorOf(patched(40, le(1L))));
        assertTrue(errorOf(patched(60, ByteBuffer.wrap(new byte[] {'X'}))).contains("corrupted header: its checksum"));
    }

    private static ByteBuffer u16(int id) {
        return ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) id);
    }

    @Test
    void aTokenOutsideTheVocabularyIsRefusedAtOpen() throws IOException {
        Path file = patched(TokenFileHeader.SIZE + 2 * 6, u16(4000));
        assertEquals(file + ": corrupted: token 6 is 4000, outside the vocabulary of 1000; tokenize the text again", errorOf(file));
    }

    @Test
    void aChangedTokenInsideTheVocabularyFailsTheChecksum() throws IOException {
        Path file = patched(TokenFileHeader.SIZE + 2 * 3, u16(42));
        assertTrue(errorOf(file).matches(".*: corrupted: the tokens' checksum is [0-9a-f]{8}, the header records [0-9a-f]{8};.*"),
                errorOf(file));
    }

    @Test
    void aDocumentCountThatDisagreesWithTheTokensIsRefused() throws IOException {
        Path file = patchedKeepingChecksum(40, le(3L));
        assertEquals(file + ": corrupted: the header counts 3 documents but the tokens hold 2 end-of-document tokens;"
                + " tokenize the text again", errorOf(file));
    }

    // --- version 1, without checksums: still read, ids and documents checked ------------------------------------

    /** A version-1 file laid out byte by byte as that version's description says. */
    private Path version1(String name, int vocabulary, int endOfDocument, long documents, int... tokens) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(TokenFileHeader.SIZE + 2 * tokens.length).order(ByteOrder.LITTLE_ENDIAN);
        byte[] tokenizer = "old".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        b.put("OCTETTOK".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(1).putInt(TokenFileHeader.SIZE).putInt(2)
                .putInt(vocabulary).putInt(endOfDocument).putInt(tokenizer.length).putLong(tokens.length).putLong(documents)
                .put(tokenizer);
        b.position(TokenFileHeader.SIZE);
        for (int t : tokens) {
            b.putShort((short) t);
        }
        return Files.write(dir.resolve(name), b.array());
    }

    @Test
    void version1FilesAreReadWithoutAChecksum() throws IOException {
        TokenFile f = TokenFile.open(version1("v1.tok", 1000, 999, 2, 5, 6, 999, 7, 999));
        assertEquals("old", f.header().tokenizer());
        assertEquals(1, f.header().version());
        assertFalse(f.header().hasChecksum());
        assertArrayEquals(new int[] {5, 6, 999, 7, 999}, all(f));
        assertTrue(errorOf(version1("v1-id.tok", 1000, 999, 2, 5, 4000, 999, 7, 999)).contains("token 1 is 4000, outside the vocabulary"));
        assertTrue(errorOf(version1("v1-docs.tok", 1000, 999, 1, 5, 6, 999, 7, 999)).contains("the header counts 1 documents but the tokens hold 2"));
    }

    @Test
    void theChecksumIsTheCrc32cOfTheTokenBytes() throws IOException {
        Path file = good();
        byte[] bytes = Files.readAllBytes(file);
        CRC32C crc = new CRC32C();
        crc.update(bytes, TokenFileHeader.SIZE, bytes.length - TokenFileHeader.SIZE);
        assertEquals((int) crc.getValue(), TokenFile.open(file).header().tokensChecksum());
        assertEquals((int) crc.getValue(), ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt(48));
    }
}
