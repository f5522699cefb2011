//! librdkafka's in-process mock cluster as a standalone broker, to tell the
//! client's own costs from a real broker's in benchmarks: prints its
//! bootstrap address, creates the topics named as arguments (1 partition),
//! then serves until killed.

fn main() {
    let mock = rdkafka::mocking::MockCluster::new(1).expect("a mock cluster");
    for topic in std::env::args().skip(1) {
        mock.create_topic(&topic, 1, 1).expect("topic created");
    }
    println!("{}", mock.bootstrap_servers());
    loop {
        std::thread::park();
    }
}
