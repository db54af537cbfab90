package dev.octet.data.tokenfile;

/** How wide each token of a token file is: the narrowest unsigned integer that holds every id. */
public enum TokenDtype {
    U16(2), U32(4);

    public final int bytes;

    TokenDtype(int bytes) {
        this.bytes = bytes;
    }

    public static TokenDtype forVocabulary(int vocabularySize) {
        return vocabularySize <= 1 << 16 ? U16 : U32;
    }
}
