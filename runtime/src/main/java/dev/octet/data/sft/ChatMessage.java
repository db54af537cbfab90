package dev.octet.data.sft;

public record ChatMessage(ChatRole role, String content) {}
