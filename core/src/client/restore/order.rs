//! The order to restore a recovery file's entries in: what an entry needs
//! (the children an index lists, the subject of an attachment) first.

use std::collections::BTreeMap;

use crate::digest::Digest;
use crate::inventory::attachment;
use crate::manifest::{Manifest, parse_manifest};
use crate::name::RepositoryName;
use crate::recovery::RecoveryEntry;

/// What an entry's manifest refers to within its repository.
#[derive(Default)]
pub(super) struct Links {
    /// The manifests an index lists.
    pub(super) children: Vec<Digest>,
    /// What it is attached to: its `subject`, or the digest its cosign or
    /// referrers tags name.
    pub(super) subject: Option<Digest>,
}

pub(super) fn links(entry: &RecoveryEntry) -> Links {
    let Ok(bytes) = entry.manifest_bytes() else {
        return Links::default();
    };
    let manifest = parse_manifest(Some(entry.media_type.as_str()), &bytes)
        .map(|(_, manifest)| manifest)
        .ok();
    let subject = manifest.as_ref().and_then(Manifest::subject);
    Links {
        children: manifest
            .as_ref()
            .map(|m| m.children().iter().map(|c| c.digest.clone()).collect())
            .unwrap_or_default(),
        subject: attachment(subject.map(|s| &s.digest), &entry.tags).map(|(digest, _)| digest),
    }
}

/// The order to restore in: every entry after the entries of the same
/// repository it needs, an index after the children it lists (the registry
/// refuses an index whose children are missing) and an attachment after its
/// subject; otherwise file order. Loops are broken where they close.
pub(super) fn restore_order(entries: &[RecoveryEntry], links: &[Links]) -> Vec<usize> {
    let mut position: BTreeMap<(&RepositoryName, &Digest), usize> = BTreeMap::new();
    for (index, entry) in entries.iter().enumerate() {
        position
            .entry((&entry.repository, &entry.digest))
            .or_insert(index);
    }
    let needs: Vec<Vec<usize>> = entries
        .iter()
        .zip(links)
        .map(|(entry, links)| {
            links
                .children
                .iter()
                .chain(&links.subject)
                .filter_map(|digest| position.get(&(&entry.repository, digest)).copied())
                .collect()
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    let mut mark = vec![Mark::New; entries.len()];
    let mut order = Vec::with_capacity(entries.len());
    for root in 0..entries.len() {
        if mark[root] != Mark::New {
            continue;
        }
        mark[root] = Mark::Visiting;
        // (entry, how many of its needs were looked at)
        let mut stack = vec![(root, 0usize)];
        while let Some(&(node, next)) = stack.last() {
            if let Some(&need) = needs[node].get(next) {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                if mark[need] == Mark::New {
                    mark[need] = Mark::Visiting;
                    stack.push((need, 0));
                }
            } else {
                mark[node] = Mark::Done;
                order.push(node);
                stack.pop();
            }
        }
    }
    order
}
