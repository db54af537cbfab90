package dev.octet.cli;

public final class OctetMain {
    public static void main(String[] args) {
        System.out.println("octet");
    }
}
