//! The references between the manifests and tags of one repository (index
//! children, subjects, attachments), as tables indexed by digest order.

use super::digest_key::{DigestKey, DigestMap};
use crate::digest::Digest;
use crate::inventory::{AttachmentKind, Image, Repository, Untagged, attachment};
use crate::name::Tag;

/// Who refers to whom in one repository. Every digest the repository has a
/// manifest or a tag for gets an id, its position in digest order, and the
/// tables below are indexed by it. The tables are refilled for each
/// repository and keep their memory from one to the next.
#[derive(Default)]
pub(super) struct Relations<'a> {
    pub(super) digests: Vec<&'a Digest>,
    pub(super) images: Vec<Option<&'a Image>>,
    /// Its tags, in name order.
    pub(super) tags: Vec<Vec<Tag>>,
    /// The indexes that list it, in digest order.
    pub(super) parents: Vec<Vec<usize>>,
    /// For an index: the id of each child, in the index's order (`None`: the
    /// repository has neither a manifest nor a tag for it).
    pub(super) children: Vec<Vec<Option<usize>>>,
    /// What it is attached to.
    pub(super) attached: Vec<Option<(Digest, AttachmentKind)>>,
    /// The id of the subject it is attached to, when that is a manifest of
    /// the repository.
    pub(super) subject: Vec<Option<usize>>,
    /// The manifests attached to it, in digest order.
    pub(super) attachments: Vec<Vec<usize>>,
    /// How the scan found it when no tag points at it.
    pub(super) untagged: Vec<Option<&'a Untagged>>,
    pub(super) ids: DigestMap<'a, usize>,
    /// The id each tag points at, in tag order, and how many tags each id has.
    pub(super) tagged: Vec<usize>,
    pub(super) tag_counts: Vec<usize>,
    /// How many ids the previous repository used.
    pub(super) used: usize,
}

/// Leaves at least `count` lists in `table`, all empty, keeping their
/// memory: the first `used` were filled for the previous repository, the
/// others are empty already.
fn reset<T>(table: &mut Vec<Vec<T>>, used: usize, count: usize) {
    table.iter_mut().take(used).for_each(Vec::clear);
    if table.len() < count {
        table.resize_with(count, Vec::new);
    }
}

impl<'a> Relations<'a> {
    /// Fills the tables for `repository`.
    pub(super) fn load(&mut self, repository: &'a Repository) {
        self.load_digests(repository);
        let count = self.digests.len();
        self.untagged.clear();
        if repository.untagged.is_empty() {
            self.untagged.resize(count, None);
        } else {
            self.untagged.extend(
                self.digests
                    .iter()
                    .map(|digest| repository.untagged.get(*digest)),
            );
        }
        self.load_tags(repository, count);
        self.load_indexes(count);
        self.load_attachments(count);
        self.used = count;
    }

    /// The ids: the digests of the repository's manifests and of its tags,
    /// in digest order; and the id each tag points at.
    fn load_digests(&mut self, repository: &'a Repository) {
        self.digests.clear();
        self.images.clear();
        for (digest, image) in &repository.images {
            self.digests.push(digest);
            self.images.push(Some(image));
        }
        self.ids.clear();
        let ids = &mut self.ids;
        ids.extend(
            self.digests
                .iter()
                .enumerate()
                .map(|(id, d)| (DigestKey::new(d), id)),
        );
        if self.load_tagged(repository) {
            return;
        }
        // Tags on digests the inventory has no manifest for (an inventory
        // from elsewhere): merge them in, in digest order.
        let ids = &mut self.ids;
        let mut untracked: Vec<&Digest> = repository
            .tags
            .values()
            .filter(|digest| !ids.contains_key(&DigestKey::new(digest)))
            .collect();
        untracked.sort_unstable();
        untracked.dedup();
        let known: Vec<(&Digest, Option<&Image>)> =
            self.digests.drain(..).zip(self.images.drain(..)).collect();
        let mut known = known.into_iter().peekable();
        let mut extra = untracked.into_iter().peekable();
        loop {
            let take_known = match (known.peek(), extra.peek()) {
                (Some((a, _)), Some(b)) => a < b,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let (digest, image) = if take_known {
                known.next().expect("peeked")
            } else {
                (extra.next().expect("peeked"), None)
            };
            self.digests.push(digest);
            self.images.push(image);
        }
        ids.clear();
        ids.extend(
            self.digests
                .iter()
                .enumerate()
                .map(|(id, d)| (DigestKey::new(d), id)),
        );
        let complete = self.load_tagged(repository);
        assert!(complete, "every tagged digest has an id");
    }

    /// The id each tag points at, in tag order; false (and incomplete) when
    /// a tag points at a digest without an id.
    fn load_tagged(&mut self, repository: &'a Repository) -> bool {
        self.tagged.clear();
        for digest in repository.tags.values() {
            match self.ids.get(&DigestKey::new(digest)) {
                Some(&id) => self.tagged.push(id),
                None => return false,
            }
        }
        true
    }

    /// Each digest's tags, in a list of exactly their number (the lists
    /// move into the plan's entries).
    fn load_tags(&mut self, repository: &'a Repository, count: usize) {
        reset(&mut self.tags, self.used, count);
        self.tag_counts.clear();
        self.tag_counts.resize(count, 0);
        for &at in &self.tagged {
            self.tag_counts[at] += 1;
        }
        for (at, &tags) in self.tag_counts.iter().enumerate() {
            self.tags[at].reserve_exact(tags);
        }
        for (tag, &at) in repository.tags.keys().zip(&self.tagged) {
            self.tags[at].push(tag.clone());
        }
    }

    /// The children each index lists, and the indexes that list each
    /// manifest.
    fn load_indexes(&mut self, count: usize) {
        let ids = &self.ids;
        let id = |digest: &Digest| ids.get(&DigestKey::new(digest)).copied();
        reset(&mut self.parents, self.used, count);
        reset(&mut self.children, self.used, count);
        for (index, image) in self.images.iter().enumerate() {
            let Some(image) = image.filter(|image| !image.children.is_empty()) else {
                continue;
            };
            let listed = &mut self.children[index];
            listed.extend(image.children.iter().map(|child| id(&child.digest)));
            for &child in listed.iter().flatten() {
                // Indexes are visited in digest order, so a repeat is the last.
                let parents = &mut self.parents[child];
                if parents.last() != Some(&index) {
                    parents.push(index);
                }
            }
        }
    }

    /// What each manifest is attached to, and what is attached to it.
    fn load_attachments(&mut self, count: usize) {
        let ids = &self.ids;
        let id = |digest: &Digest| ids.get(&DigestKey::new(digest)).copied();
        self.attached.clear();
        self.subject.clear();
        reset(&mut self.attachments, self.used, count);
        for at in 0..count {
            let image = self.images[at];
            let found = attachment(image.and_then(|i| i.subject.as_ref()), &self.tags[at]);
            let subject = found.as_ref().and_then(|(digest, _)| id(digest));
            if let (Some(_), Some(of)) = (image, subject) {
                self.attachments[of].push(at);
            }
            self.subject
                .push(subject.filter(|&of| self.images[of].is_some()));
            self.attached.push(found);
        }
    }

    pub(super) fn count(&self) -> usize {
        self.digests.len()
    }
}
