//! Tuples of monitors: every member hears of every batch and epoch, in
//! order, and training stops when any member asks (example in the
//! [module docs](super#watching-together)).

use core::ops::ControlFlow;

use crate::train::{BatchReport, EpochReport, Monitor};

/// `Monitor` for tuples of one to eight monitors.
macro_rules! tuple_monitor {
    ($($name:ident)+) => {
        /// Every member, in order, hears of each batch and each epoch (all of
        /// them, even after one asks to stop, so logs keep the last epoch);
        /// training stops if any member asks. Nothing allocates.
        impl<T, $($name: Monitor<T>),+> Monitor<T> for ($($name,)+) {
            fn on_batch(&mut self, report: &BatchReport<T>) {
                #[allow(non_snake_case)]
                let ($($name,)+) = self;
                $($name.on_batch(report);)+
            }

            fn on_epoch(&mut self, report: &EpochReport<T>) -> ControlFlow<()> {
                #[allow(non_snake_case)]
                let ($($name,)+) = self;
                let mut flow = ControlFlow::Continue(());
                $(
                    if $name.on_epoch(report).is_break() {
                        flow = ControlFlow::Break(());
                    }
                )+
                flow
            }
        }
    };
}

tuple_monitor!(A);
tuple_monitor!(A B);
tuple_monitor!(A B C);
tuple_monitor!(A B C D);
tuple_monitor!(A B C D E);
tuple_monitor!(A B C D E F);
tuple_monitor!(A B C D E F G);
tuple_monitor!(A B C D E F G H);
