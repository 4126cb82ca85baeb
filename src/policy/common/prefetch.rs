//! The policies' side of the replay loop's prefetching ([`crate::prefetch`]):
//! the two hints forwarded to the slab that finds a policy's entries, and
//! the key-space hint that lets that slab index keys directly.

/// The two prefetch hints of a policy whose entries are found through one
/// index (a slab, a queue, the Redis models' table), named by a field
/// path: `prefetch_hints_through!(c.keys);` in its `impl Policy`. The
/// index has `prefetch_slot` and `prefetch_node`.
macro_rules! prefetch_hints_through {
    ($($field:ident).+) => {
        #[inline]
        fn prefetch_index(&self, key: $crate::request::Key) {
            self.$($field).+.prefetch_slot(key)
        }

        #[inline]
        fn prefetch_entry(&self, key: $crate::request::Key) {
            self.$($field).+.prefetch_node(key)
        }
    };
}
pub(crate) use prefetch_hints_through;

/// The prefetch and key-space hints of a policy whose entries are found
/// through one slab, queue or Redis table, named by a field path:
/// `prefetch_through!(slab);` in its `impl Policy`.
macro_rules! prefetch_through {
    ($($field:ident).+) => {
        $crate::policy::common::prefetch::prefetch_hints_through!($($field).+);

        fn index_keys_below(&mut self, bound: $crate::request::Key) {
            self.$($field).+.index_keys_below(bound)
        }
    };
}
pub(crate) use prefetch_through;
