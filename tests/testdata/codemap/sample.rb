# Rate limiting for API clients.
require_relative "clock"

module Throttle
  class Limiter < Base
    attr_reader :rate

    def initialize(rate, clock: Clock.new)
      @rate = rate
      @clock = clock
    end

    def allow?(key)
      count(key) < rate
    end

    def self.default
      new(10)
    end

    private

    def count(key)
      0
    end
  end

  def self.configure
    yield Limiter.default
  end
end
