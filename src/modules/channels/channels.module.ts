import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from 'src/config/app-config';
import { Channel } from 'src/modules/channels/channel.entity';
import { ChannelsController } from 'src/modules/channels/channels.controller';
import { ChannelsService } from 'src/modules/channels/channels.service';
import { CredentialsCipher } from 'src/modules/channels/credentials-cipher';

@Module({
  imports: [TypeOrmModule.forFeature([Channel])],
  controllers: [ChannelsController],
  providers: [
    ChannelsService,
    {
      provide: CredentialsCipher,
      inject: [AppConfig],
      useFactory: (c: AppConfig) => new CredentialsCipher(c.credentialsKey),
    },
  ],
  exports: [ChannelsService, CredentialsCipher],
})
export class ChannelsModule {}
