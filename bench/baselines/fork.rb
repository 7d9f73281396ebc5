# Ruby baseline for `npm run bench`: Process.fork of a parent grown to about
# MB megabytes of RSS (many small objects, like the Node case's heap); the
# child runs one line of Ruby and leaves with Process.exit! (_exit(2)); the
# parent reaps it with Process.waitpid. Usage: fork.rb MB REPEAT [CHILDREN].
# Prints {"rssMb": R, "seconds": [S, ...]}.
require 'json'

PAGE_SIZE = 4096

def rss_mb
  File.read('/proc/self/statm').split[1].to_i * PAGE_SIZE / 2.0**20
end

def now
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

mb = Float(ARGV[0])
repeat = Integer(ARGV[1])
children = Integer(ARGV[2] || 1)
held = []
held << Array.new(4096) { |i| { i: i, s: "x#{i}" } } while rss_mb < mb
seconds = Array.new(repeat) do
  start = now
  pids = Array.new(children) do
    Process.fork do
      total = [1, 2, 3].sum # the child runs Ruby
      Process.exit!(total == 6 ? 0 : 1)
    end
  end
  pids.each do |pid|
    Process.waitpid(pid)
    raise "the forked child failed: #{$?.inspect}" unless $?.success?
  end
  now - start
end
puts JSON.generate({ rssMb: rss_mb, seconds: seconds, held: held.size })
