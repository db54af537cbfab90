package dev.octet.decode;

/** The tokens generated after a prompt (the stop token left out), and whether the stop token ended them. */
public record Generation(int[] tokens, boolean stopped) {
    public Generation {
        tokens = tokens.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }
}
