;; Draws n uniform integers in 1..1000 and counts them (xoshiro128**, three
;; 10-bit fields per output, fields >= 1000 rejected into spare buckets).
;; Bit-identical to countRandoms() in src/randoms/count.ts for the same seed.
;;
;; Memory: bucket v-1 (for v = 1..1000) is the u32 at byte 4*(v-1); the spare
;; buckets 1000..1023 (rejected fields) follow, up to byte 4096.
;;
;; count(n, s0, s1, s2, s3): n is a whole number (f64; count-wasm.ts allows up to
;; 2^32 - 1, as buckets are u32), the seed is the 4 state words (not all zero).
(module
  (memory (export "memory") 1 1)

  (func $count (export "count")
    (param $n f64) (param $s0 i32) (param $s1 i32) (param $s2 i32) (param $s3 i32)
    (local $need i64)   ;; draws still to take
    (local $steps i64)  ;; three-field steps taken so far
    (local $k i32)      ;; steps left in this block
    (local $o i32) (local $p i32) (local $t i32) (local $a i32) (local $i i32)
    (local $rejected i64)

    (memory.fill (i32.const 0) (i32.const 0) (i32.const 4096))
    (local.set $need (i64.trunc_sat_f64_u (local.get $n)))

    ;; Blocks of floor(need / 3) three-field steps: they cannot overshoot n,
    ;; so the hot loop keeps no count. After each block, the draws taken are
    ;; 3 * steps minus the rejected fields in the spare buckets.
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i64.lt_u (local.get $need) (i64.const 3)))
        (local.set $k (i32.wrap_i64
          (select (i64.div_u (local.get $need) (i64.const 3))
                  (i64.const 0x40000000)
                  (i64.lt_u (local.get $need) (i64.const 0xC0000000)))))
        (local.set $steps (i64.add (local.get $steps) (i64.extend_i32_u (local.get $k))))

        ;; odd step first, so the unrolled loop below takes two at a time
        (if (i32.and (local.get $k) (i32.const 1))
          (then
            (local.set $o (i32.mul (i32.rotl (i32.mul (local.get $s1) (i32.const 5)) (i32.const 7)) (i32.const 9)))
            (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
            (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
            (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
            (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
            (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
            (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
            (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
            ;; raw[o >>> 22]++  (byte address (o >>> 22) << 2 = (o >>> 20) & ~3)
            (local.set $a (i32.and (i32.shr_u (local.get $o) (i32.const 20)) (i32.const 0xFFC)))
            (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
            (local.set $a (i32.and (i32.shr_u (local.get $o) (i32.const 10)) (i32.const 0xFFC)))
            (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
            (local.set $a (i32.and (local.get $o) (i32.const 0xFFC)))
            (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))))

        (block $pairs_done
          (br_if $pairs_done (i32.eqz (local.get $k)))
          (loop $pairs
            ;; step 1 -> o
            (local.set $o (i32.mul (i32.rotl (i32.mul (local.get $s1) (i32.const 5)) (i32.const 7)) (i32.const 9)))
            (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
            (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
            (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
            (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
            (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
            (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
            (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
            ;; step 2 -> p
            (local.set $p (i32.mul (i32.rotl (i32.mul (local.get $s1) (i32.const 5)) (i32.const 7)) (i32.const 9)))
            (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
            (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
            (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
            (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
            (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
            (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
            (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
            ;; six bucket increments, in the same order as the JS kernel
            (local.set $a (i32.and (i32.shr_u (local.get $o) (i32.const 20)) (i32.const 0xFFC)))
            (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
            (local.set $a (i32.and (i32.shr_u (local.get $o) (i32.const 10)) (i32.const 0xFFC)))
            (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
            (local.set $a (i32.and (local.get $o) (i32.const 0xFFC)))
            (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
            (local.set $a (i32.and (i32.shr_u (local.get $p) (i32.const 20)) (i32.const 0xFFC)))
            (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
            (local.set $a (i32.and (i32.shr_u (local.get $p) (i32.const 10)) (i32.const 0xFFC)))
            (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
            (local.set $a (i32.and (local.get $p) (i32.const 0xFFC)))
            (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
            (br_if $pairs (local.tee $k (i32.sub (local.get $k) (i32.const 2))))))

        ;; rejected = sum of the spare buckets (bytes 4000..4095)
        (local.set $rejected (i64.const 0))
        (local.set $i (i32.const 4000))
        (loop $sum
          (local.set $rejected (i64.add (local.get $rejected) (i64.load32_u (local.get $i))))
          (br_if $sum (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (i32.const 4096))))
        (local.set $need (i64.sub
          (i64.trunc_sat_f64_u (local.get $n))
          (i64.sub (i64.mul (local.get $steps) (i64.const 3)) (local.get $rejected))))
        (br $blocks)))

    ;; The last one or two draws: one field (the top one) per output.
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i64.eqz (local.get $need)))
        (local.set $o (i32.mul (i32.rotl (i32.mul (local.get $s1) (i32.const 5)) (i32.const 7)) (i32.const 9)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        (if (i32.lt_u (i32.shr_u (local.get $o) (i32.const 22)) (i32.const 1000))
          (then
            (local.set $a (i32.and (i32.shr_u (local.get $o) (i32.const 20)) (i32.const 0xFFC)))
            (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
            (local.set $need (i64.sub (local.get $need) (i64.const 1)))))
        (br $tail))))
)
