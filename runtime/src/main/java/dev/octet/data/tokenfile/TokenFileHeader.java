package dev.octet.data.tokenfile;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The fixed {@value #SIZE}-byte header of a token file, little-endian:
 *
 * <pre>
 *   0  8 bytes  magic "OCTETTOK"
 *   8  u32      format version ({@value #VERSION}; version 1 is still read)
 *  12  u32      header size in bytes ({@value #SIZE}); tokens start there
 *  16  u32      bytes per token: 2 (u16) or 4 (u32), the narrowest that holds the vocabulary
 *  20  u32      vocabulary size
 *  24  u32      end-of-document token id
 *  28  u32      length of the tokenizer name in bytes (at most {@value #MAX_NAME_BYTES})
 *  32  u64      token count
 *  40  u64      document count
 *  48  u32      CRC32C of the tokens (version 2)
 *  52  u32      CRC32C of the header's other {@value #SIZE} - 4 bytes (version 2)
 *  56  ...      tokenizer name, UTF-8, zero padded to {@value #SIZE}
 * </pre>
 *
 * Version 1 had no checksums and the name at 48. Documents are laid end to end, each followed by the
 * end-of-document token, so the document count equals the number of end-of-document tokens and boundaries
 * need no separate table.
 */
public record TokenFileHeader(String tokenizer, int vocabularySize, int endOfDocumentId, long tokenCount, long documentCount,
                              int version, int tokensChecksum) {

    public static final int SIZE = 256;
    public static final int VERSION = 2;
    /** The first version, without checksums: read, its ids and document count checked, its bytes not. */
    public static final int VERSION_WITHOUT_CHECKSUM = 1;
    public static final int MAX_NAME_BYTES = SIZE - 56;
    private static final int NAME_AT_V1 = 48;
    private static final int TOKENS_CHECKSUM_AT = 48;
    private static final int HEADER_CHECKSUM_AT = 52;
    private static final int NAME_AT = 56;
    private static final byte[] MAGIC = "OCTETTOK".getBytes(StandardCharsets.US_ASCII);

    public TokenFileHeader {
        if (vocabularySize < 1 || endOfDocumentId < 0 || endOfDocumentId >= vocabularySize
                || tokenCount < 0 || documentCount < 0 || documentCount > tokenCount) {
            throw new IllegalArgumentException("inconsistent token file header: vocabulary " + vocabularySize
                    + ", end-of-document " + endOfDocumentId + ", " + tokenCount + " tokens, " + documentCount + " documents");
        }
        if (version != VERSION && version != VERSION_WITHOUT_CHECKSUM) {
            throw new IllegalArgumentException("token file version " + version);
        }
    }

    /** A header of the current version whose tokens' checksum is {@code tokensChecksum}. */
    public TokenFileHeader(String tokenizer, int vocabularySize, int endOfDocumentId, long tokenCount, long documentCount,
                           int tokensChecksum) {
        this(tokenizer, vocabularySize, endOfDocumentId, tokenCount, documentCount, VERSION, tokensChecksum);
    }

    public TokenDtype dtype() {
        return TokenDtype.forVocabulary(vocabularySize);
    }

    /** Whether the file carries checksums (version 2 on). */
    public boolean hasChecksum() {
        return version >= VERSION;
    }

    /** Size the whole file must have. */
    public long fileSize() {
        return SIZE + tokenCount * dtype().bytes;
    }

    /** The header as version {@value #VERSION} writes it, checksums included. */
    public ByteBuffer encode() {
        if (version != VERSION) {
            throw new IllegalStateException("Octet writes token files of version " + VERSION + " only");
        }
        byte[] name = tokenizer.getBytes(StandardCharsets.UTF_8);
        if (name.length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("tokenizer name longer than " + MAX_NAME_BYTES + " bytes: " + tokenizer);
        }
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(SIZE).putInt(dtype().bytes).putInt(vocabularySize).putInt(endOfDocumentId)
                .putInt(name.length).putLong(tokenCount).putLong(documentCount).putInt(tokensChecksum).putInt(0)
                .put(name);
        b.putInt(HEADER_CHECKSUM_AT, headerChecksum(b));
        return b.clear();
    }

    /** CRC32C of the whole header but its own field. */
    static int headerChecksum(ByteBuffer header) {
        CRC32C crc = new CRC32C();
        crc.update(header.duplicate().clear().limit(HEADER_CHECKSUM_AT));
        crc.update(header.duplicate().clear().position(HEADER_CHECKSUM_AT + 4).limit(SIZE));
        return (int) crc.getValue();
    }

    /**
     * Reads and checks the header of {@code file}, whose size is {@code fileSize}; {@code bytes} holds its first
     * bytes (up to {@value #SIZE}). Every field is checked before anything is sized from it.
     */
    public static TokenFileHeader decode(Path file, ByteBuffer bytes, long fileSize) throws TokenFileException {
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < MAGIC.length || !b.slice(b.position(), MAGIC.length).equals(ByteBuffer.wrap(MAGIC))) {
            throw new TokenFileException(file, "not an Octet token file (no OCTETTOK magic); make one with 'octet data tokenize'");
        }
        if (fileSize < SIZE || b.remaining() < SIZE) {
            throw new TokenFileException(file, "truncated: " + fileSize + " bytes, shorter than the " + SIZE + "-byte header");
        }
        ByteBuffer header = b.slice(b.position(), SIZE).order(ByteOrder.LITTLE_ENDIAN);
        int version = header.getInt(8);
        if (version != VERSION && version != VERSION_WITHOUT_CHECKSUM) {
            throw new TokenFileException(file, "format version " + Integer.toUnsignedString(version) + ", this Octet reads versions "
                    + VERSION_WITHOUT_CHECKSUM + " and " + VERSION);
        }
        if (version >= VERSION && header.getInt(HEADER_CHECKSUM_AT) != headerChecksum(header)) {
            throw new TokenFileException(file, "corrupted header: its checksum does not match its bytes");
        }
        header.position(12);
        int headerSize = header.getInt();
        if (headerSize != SIZE) {
            throw new TokenFileException(file, "corrupted header: header size " + Integer.toUnsignedString(headerSize) + ", expected " + SIZE);
        }
        int tokenBytes = header.getInt();
        int vocabulary = header.getInt();
        int endOfDocument = header.getInt();
        int nameLength = header.getInt();
        long tokens = header.getLong();
        long documents = header.getLong();
        int tokensChecksum = version >= VERSION ? header.getInt(TOKENS_CHECKSUM_AT) : 0;
        int nameAt = version >= VERSION ? NAME_AT : NAME_AT_V1;
        if (vocabulary < 1) {
            throw new TokenFileException(file, "corrupted header: vocabulary size " + Integer.toUnsignedString(vocabulary));
        }
        if (tokenBytes != TokenDtype.forVocabulary(vocabulary).bytes) {
            throw new TokenFileException(file, "corrupted header: " + Integer.toUnsignedString(tokenBytes) + " bytes per token for a vocabulary of "
                    + vocabulary + " (expected " + TokenDtype.forVocabulary(vocabulary).bytes + ")");
        }
        if (endOfDocument < 0 || endOfDocument >= vocabulary) {
            throw new TokenFileException(file, "corrupted header: end-of-document id " + Integer.toUnsignedString(endOfDocument)
                    + " outside the vocabulary of " + vocabulary);
        }
        if (nameLength < 0 || nameLength > SIZE - nameAt) {
            throw new TokenFileException(file, "corrupted header: tokenizer name of " + Integer.toUnsignedString(nameLength) + " bytes");
        }
        if (tokens < 0 || tokens > (Long.MAX_VALUE - SIZE) / tokenBytes) {
            throw new TokenFileException(file, "corrupted header: token count " + Long.toUnsignedString(tokens));
        }
        if (documents < 0 || documents > tokens) {
            throw new TokenFileException(file, "corrupted header: " + Long.toUnsignedString(documents) + " documents in " + tokens + " tokens");
        }
        long expected = SIZE + tokens * tokenBytes;
        if (fileSize < expected) {
            throw new TokenFileException(file, "truncated: the header promises " + tokens + " tokens (" + expected + " bytes) but the file has "
                    + fileSize + " bytes");
        }
        if (fileSize > expected) {
            throw new TokenFileException(file, "corrupted: " + (fileSize - expected) + " bytes after the " + tokens + " tokens the header promises");
        }
        byte[] name = new byte[nameLength];
        header.get(nameAt, name);
        String tokenizer;
        try {
            tokenizer = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(name)).toString();
        } catch (CharacterCodingException e) {
            throw new TokenFileException(file, "corrupted header: the tokenizer name is not UTF-8");
        }
        return new TokenFileHeader(tokenizer, vocabulary, endOfDocument, tokens, documents, version, tokensChecksum);
    }
}
