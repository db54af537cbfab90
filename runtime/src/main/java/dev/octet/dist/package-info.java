/**
 * Data-parallel training across processes, one per GPU: where a process stands among the ranks
 * ({@link dev.octet.dist.RankEnvironment}), how the ranks meet to create their NCCL communicator
 * ({@link dev.octet.dist.UniqueIdRendezvous}) and learn that one of them has stopped
 * ({@link dev.octet.dist.RankLink}), and which micro-batches of each step a rank trains on
 * ({@link dev.octet.dist.RankBatches}), and what they exchange ({@link dev.octet.dist.GradientExchange}): between
 * processes through {@link dev.octet.dist.HostCollectives} (TCP, for the CPU backend); on GPUs the collectives are
 * {@link dev.octet.gpu.Nccl}'s.
 */
package dev.octet.dist;
